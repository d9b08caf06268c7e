"""The storage contract for state captures (opaque bytes per table, see docs/scale.md)."""

from __future__ import annotations

import pytest

from crowdfill.store import Store, StoreConflict, StoreError, UnknownTable
from tests.store.test_contract import stored_table

# Larger than MongoDB's 16 MB document limit, so the chunked write is exercised; every byte value.
BIG = bytes(range(256)) * (17 * 4096 + 3)


async def test_a_table_without_a_capture_loads_none(store: Store) -> None:
    await stored_table(store)
    assert await store.load_capture("t1") is None
    assert await store.load_capture("nope") is None


async def test_a_saved_capture_replaces_the_previous_one_byte_for_byte(store: Store) -> None:
    await stored_table(store, last_seq=5)
    await store.save_capture("t1", 2, b"\x00first\xff")
    assert await store.load_capture("t1") == (2, b"\x00first\xff")
    await store.save_capture("t1", 5, BIG)
    assert await store.load_capture("t1") == (5, BIG)
    await store.save_capture("t1", 5, b"")
    assert await store.load_capture("t1") == (5, b"")


async def test_a_capture_outside_the_stored_log_is_refused_and_the_previous_one_kept(store: Store) -> None:
    await stored_table(store, last_seq=3)
    await store.save_capture("t1", 1, b"kept")
    with pytest.raises(StoreConflict, match="snapshot"):
        await store.save_capture("t1", 4, b"too far")
    assert await store.load_capture("t1") == (1, b"kept")


async def test_a_capture_older_than_the_stored_one_is_a_no_op(store: Store) -> None:
    await stored_table(store, last_seq=5)
    await store.save_capture("t1", 4, b"newer")
    await store.save_capture("t1", 2, b"older, landing late")
    assert await store.load_capture("t1") == (4, b"newer")
    await store.save_capture("t1", 4, b"same seq")
    assert await store.load_capture("t1") == (4, b"same seq")
    await store.save_capture("t1", 5, b"newest")
    assert await store.load_capture("t1") == (5, b"newest")


async def test_a_capture_of_an_unknown_table_raises_unknown_table(store: Store) -> None:
    with pytest.raises(UnknownTable):
        await store.save_capture("nope", 0, b"x")


async def test_a_capture_must_be_bytes(store: Store) -> None:
    await stored_table(store)
    with pytest.raises(TypeError, match="bytes"):
        await store.save_capture("t1", 0, "text")  # type: ignore[arg-type]  # the wrong type on purpose


async def test_captures_need_an_open_store(store: Store) -> None:
    await store.close()
    with pytest.raises(StoreError):
        await store.load_capture("t1")
