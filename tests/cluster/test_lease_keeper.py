"""The lease keeper renews a table's lease, reports its loss, and its old epoch can never append."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from crowdfill.cluster.lease_keeper import LeaseKeeper
from crowdfill.store import LogRecord, MemoryStore, PostgresStore, StaleEpoch, Store, TableRecord
from tests.store.backends import migrated_template
from tests.support.services import PostgresServer

TTL = 0.3
WAIT_S = 20.0  # a generous bound for a loaded machine: the assertions are on events, not times


@pytest.fixture(params=["memory", "postgresql"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        opened: Store = PostgresStore(server.new_database(await migrated_template(server)))
    else:
        opened = MemoryStore()
    await opened.open()
    await opened.create_table(TableRecord("t1", {}, "live", 1.0, 1.0))
    try:
        yield opened
    finally:
        await opened.close()


async def eventually(condition: object) -> None:
    assert callable(condition)
    deadline = time.monotonic() + WAIT_S
    while not await condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def test_a_kept_lease_is_renewed_past_its_first_expiry(store: Store) -> None:
    keeper = LeaseKeeper(store, "t1", "a", ttl=TTL)
    first = await keeper.acquire()
    assert first is not None
    try:

        async def renewed() -> bool:
            lease = await store.get_lease("t1")
            return lease is not None and lease.expires_at > first.expires_at

        await eventually(renewed)
        # At the moment the first lease would have expired, nobody else may take it.
        assert await store.acquire_lease("t1", "b", ttl=TTL, now=first.expires_at) is None
        assert keeper.epoch == 1
        assert not keeper.lost.is_set()
    finally:
        await keeper.release()


async def test_a_takeover_is_reported_lost_and_the_old_epoch_cannot_append(store: Store) -> None:
    keeper = LeaseKeeper(store, "t1", "a", ttl=TTL)
    old = await keeper.acquire()
    assert old is not None
    # Another process whose clock is past the expiry (as if this one had been paused) takes over.
    new = await store.acquire_lease("t1", "b", ttl=60.0, now=old.expires_at + 100.0)
    assert new is not None
    assert new.epoch == old.epoch + 1
    await asyncio.wait_for(keeper.lost.wait(), WAIT_S)
    assert keeper.epoch is None
    with pytest.raises(StaleEpoch):
        await store.append("t1", [LogRecord(1, {"from": "old owner"}, 1.0)], epoch=old.epoch)
    await store.append("t1", [LogRecord(1, {"from": "new owner"}, 1.0)], epoch=new.epoch)
    await keeper.release()
    assert await store.get_lease("t1") == new


async def test_a_released_lease_is_taken_at_once_with_a_higher_epoch(store: Store) -> None:
    keeper = LeaseKeeper(store, "t1", "a", ttl=60.0)
    await keeper.acquire()
    assert await store.acquire_lease("t1", "b", ttl=60.0, now=time.time()) is None
    await keeper.release()
    taken = await store.acquire_lease("t1", "b", ttl=60.0, now=time.time())
    assert taken is not None
    assert taken.epoch == 2


async def test_an_abandoned_lease_is_free_only_once_it_expires(store: Store) -> None:
    keeper = LeaseKeeper(store, "t1", "a", ttl=60.0)
    lease = await keeper.acquire()
    assert lease is not None
    await keeper.abandon()
    assert await store.acquire_lease("t1", "b", ttl=60.0, now=lease.expires_at - 1.0) is None
    taken = await store.acquire_lease("t1", "b", ttl=60.0, now=lease.expires_at)
    assert taken is not None
    assert taken.epoch == 2


async def test_a_lease_that_cannot_be_renewed_is_given_up_before_it_can_expire() -> None:
    store = MemoryStore()
    await store.open()
    now = [1000.0]
    keeper = LeaseKeeper(store, "t1", "a", ttl=TTL, clock=lambda: now[0])
    lease = await keeper.acquire()
    assert lease is not None
    await store.close()  # every renewal now fails with a StoreError
    await asyncio.sleep(TTL)  # renewals fail and are retried: the lease cannot have expired yet
    assert not keeper.lost.is_set()
    now[0] = lease.expires_at - TTL / 4
    await asyncio.wait_for(keeper.lost.wait(), WAIT_S)
    assert keeper.epoch is None
    await keeper.abandon()


async def test_another_holder_cannot_acquire_a_kept_lease(store: Store) -> None:
    keeper = LeaseKeeper(store, "t1", "a", ttl=60.0)
    await keeper.acquire()
    other = LeaseKeeper(store, "t1", "b", ttl=60.0)
    assert await other.acquire() is None
    assert other.epoch is None
    await keeper.release()
    await other.abandon()
