from __future__ import annotations

import ctypes
import gc
import sys

import pytest

from crowdfill.server.heap import collector_paused, promote_to_oldest, release_freed_memory


def test_the_collector_is_paused_inside_the_block_and_enabled_again_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def _has_malloc_trim() -> bool:
    try:
        return hasattr(ctypes.CDLL(None), "malloc_trim")
    except OSError:
        return False


@pytest.mark.skipif(not (sys.platform.startswith("linux") and _has_malloc_trim()), reason="glibc only")
def test_freed_memory_is_handed_back_through_the_c_library_where_it_can_be() -> None:
    freed = [bytes(1000) for _ in range(10_000)]
    del freed

    assert release_freed_memory()


def test_promoted_objects_are_in_the_oldest_generation_and_still_collected() -> None:
    gc.unfreeze()  # whatever an earlier test's server froze: nothing is frozen here

    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it

    assert promote_to_oldest()
    assert gc.get_freeze_count() == 0
    assert any(o is first for o in gc.get_objects(generation=2))
    del first, second
    assert gc.collect() >= 2


def test_a_frozen_heap_stays_frozen_and_nothing_is_promoted() -> None:
    # The freeze count itself is no witness: frozen objects that other threads (an earlier
    # test's server) free leave the permanent generation. A frozen object the test holds is.
    held: list[list[int]] = [[]]
    gc.freeze()
    try:
        young: list[list[int]] = [[]]
        assert not promote_to_oldest()
        assert gc.get_freeze_count() > 0
        assert not any(o is held for o in gc.get_objects())
        assert not any(o is young for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
