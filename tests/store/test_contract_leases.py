"""The lease contract (one sequencer per table, fenced by epochs): every adapter passes all of it."""

from __future__ import annotations

import asyncio

import pytest

from crowdfill.store import Lease, LogRecord, StaleEpoch, Store, StoreConflict, StoreError
from tests.store.backends import Backend
from tests.store.test_contract import records, stored_table

TTL = 10.0


async def test_a_free_lease_is_taken_at_epoch_one(store: Store) -> None:
    lease = await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert lease == Lease("t1", "a", 1, 110.0)
    assert await store.get_lease("t1") == lease


async def test_a_table_without_a_lease_reads_none(store: Store) -> None:
    assert await store.get_lease("t1") is None


async def test_a_live_lease_is_refused_to_another_holder(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.acquire_lease("t1", "b", ttl=TTL, now=109.9) is None
    assert await store.get_lease("t1") == Lease("t1", "a", 1, 110.0)


async def test_the_holder_acquiring_again_extends_its_lease_at_the_same_epoch(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.acquire_lease("t1", "a", ttl=TTL, now=105.0) == Lease("t1", "a", 1, 115.0)


async def test_an_expired_lease_is_taken_over_with_a_higher_epoch(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.acquire_lease("t1", "b", ttl=TTL, now=110.0) == Lease("t1", "b", 2, 120.0)
    assert await store.acquire_lease("t1", "a", ttl=TTL, now=130.0) == Lease("t1", "a", 3, 140.0)


async def test_renewing_extends_a_held_lease_and_fails_once_it_was_taken_over(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.renew_lease("t1", "a", 1, ttl=TTL, now=108.0) == Lease("t1", "a", 1, 118.0)
    # Expired but not taken: the epoch is still current, so renewing is safe.
    assert await store.renew_lease("t1", "a", 1, ttl=TTL, now=125.0) == Lease("t1", "a", 1, 135.0)
    await store.acquire_lease("t1", "b", ttl=TTL, now=140.0)
    assert await store.renew_lease("t1", "a", 1, ttl=TTL, now=141.0) is None
    assert await store.renew_lease("t1", "b", 1, ttl=TTL, now=141.0) is None
    assert await store.get_lease("t1") == Lease("t1", "b", 2, 150.0)


async def test_a_released_lease_is_free_at_once_and_fenced_by_the_next_epoch(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.release_lease("t1", "b", 1) is False
    assert await store.release_lease("t1", "a", 1) is True
    assert await store.acquire_lease("t1", "b", ttl=TTL, now=101.0) == Lease("t1", "b", 2, 111.0)
    assert await store.release_lease("t1", "a", 1) is False


async def test_leases_of_different_tables_are_independent(store: Store) -> None:
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert await store.acquire_lease("t2", "b", ttl=TTL, now=100.0) == Lease("t2", "b", 1, 110.0)


@pytest.mark.parametrize(("holder", "ttl"), [("", TTL), ("a", 0.0), ("a", -1.0)])
async def test_a_lease_needs_a_holder_and_a_positive_ttl(store: Store, holder: str, ttl: float) -> None:
    with pytest.raises(ValueError, match=r"holder|ttl"):
        await store.acquire_lease("t1", holder, ttl=ttl, now=100.0)
    assert await store.get_lease("t1") is None


async def test_of_concurrent_acquirers_of_a_free_lease_exactly_one_wins(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(store.acquire_lease("t1", f"h{i}", ttl=TTL, now=100.0) for i in range(6))
    )
    winners = [lease for lease in outcomes if lease is not None]
    assert len(winners) == 1
    assert winners[0].epoch == 1
    assert await store.get_lease("t1") == winners[0]


# -- fencing ----------------------------------------------------------------------------------------


async def test_the_current_epoch_appends(store: Store) -> None:
    await stored_table(store, last_seq=1)
    lease = await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert lease is not None
    await store.append("t1", records(2, 3), epoch=lease.epoch)
    assert await store.read_log("t1") == records(1, 3)


async def test_a_stale_epoch_cannot_append_after_a_takeover(store: Store) -> None:
    await stored_table(store, last_seq=1)
    old = await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    new = await store.acquire_lease("t1", "b", ttl=TTL, now=200.0)
    assert old is not None
    assert new is not None
    with pytest.raises(StaleEpoch, match="t1"):
        await store.append("t1", records(2, 2), epoch=old.epoch)
    await store.append("t1", records(2, 2), epoch=new.epoch)
    assert await store.read_log("t1") == records(1, 2)


async def test_a_stale_epoch_is_a_conflict_and_changes_nothing(store: Store) -> None:
    await stored_table(store, last_seq=2)
    await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    with pytest.raises(StoreConflict, match="epoch"):
        await store.append("t1", records(3, 5), epoch=7)
    assert await store.last_seq("t1") == 2


async def test_an_epoch_without_any_lease_cannot_append(store: Store) -> None:
    await stored_table(store)
    with pytest.raises(StaleEpoch):
        await store.append("t1", records(1, 1), epoch=1)
    assert await store.read_log("t1") == []


async def test_an_append_racing_a_takeover_either_lands_before_it_or_is_refused(store: Store) -> None:
    await stored_table(store)
    old = await store.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    assert old is not None
    appended, taken = await asyncio.gather(
        store.append("t1", records(1, 3), epoch=old.epoch),
        store.acquire_lease("t1", "b", ttl=TTL, now=200.0),
        return_exceptions=True,
    )
    assert isinstance(taken, Lease)
    assert appended is None or isinstance(appended, StaleEpoch)
    # Whatever the order, the new holder continues the log from what the store holds.
    last = await store.last_seq("t1")
    await store.append("t1", records(last + 1, last + 1), epoch=taken.epoch)
    assert await store.read_log("t1") == records(1, last + 1)


async def test_leases_survive_reopening_a_persistent_store(persistent_backend: Backend) -> None:
    first = persistent_backend.make()
    await first.open()
    await first.acquire_lease("t1", "a", ttl=TTL, now=100.0)
    await first.close()
    second = persistent_backend.make()
    await second.open()
    try:
        assert await second.get_lease("t1") == Lease("t1", "a", 1, 110.0)
        assert await second.acquire_lease("t1", "b", ttl=TTL, now=105.0) is None
    finally:
        await second.close()


async def test_a_closed_store_refuses_lease_calls(backend: Backend) -> None:
    closed = backend.make()
    await closed.open()
    await closed.close()
    with pytest.raises(StoreError, match="not open"):
        await closed.acquire_lease("t1", "a", ttl=TTL, now=1.0)
    with pytest.raises(StoreError, match="not open"):
        await closed.append("t1", [LogRecord(1, {}, 1.0)], epoch=1)
