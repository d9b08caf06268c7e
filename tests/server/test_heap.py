from __future__ import annotations

import ctypes
import gc
import sys

import pytest

from crowdfill.server.heap import collector_paused, release_freed_memory


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
