"""Ownership: the first claimant leads, the others follow, and a follower takes over an expired lease."""

from __future__ import annotations

import asyncio

from crowdfill.cluster import Ownership
from crowdfill.store import MemoryStore

TTL = 0.3
WAIT_S = 20.0  # a generous bound for a loaded machine: the assertions are on events, not times


class Recorder:
    """A table member that records what ownership tells it."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.resigned = 0
        self.leading = asyncio.Event()
        self.resigning = asyncio.Event()

    async def lead(self, epoch: int) -> None:
        self.epochs.append(epoch)
        self.leading.set()

    def resign(self) -> None:
        self.resigned += 1
        self.resigning.set()


async def test_the_first_claimant_leads_and_the_second_follows_naming_the_leader() -> None:
    store = MemoryStore()
    await store.open()
    a, b = Ownership(store, "node-a", ttl=TTL), Ownership(store, "node-b", ttl=TTL)
    assert await a.claim("t1", Recorder()) == 1
    assert await b.claim("t1", Recorder()) is None
    assert a.leads("t1")
    assert not b.leads("t1")
    assert b.holder("t1") == "node-a"
    await a.stop()
    await b.stop()


async def test_a_follower_takes_over_at_a_higher_epoch_once_the_leader_stops_renewing() -> None:
    store = MemoryStore()
    await store.open()
    a, b = Ownership(store, "node-a", ttl=TTL), Ownership(store, "node-b", ttl=TTL)
    a_member, b_member = Recorder(), Recorder()
    assert await a.claim("t1", a_member) == 1
    assert await b.claim("t1", b_member) is None
    b.start()
    # node-a "dies": its lease is no longer renewed (nothing is released).
    for claim in list(a._claims.values()):
        await claim.keeper.abandon()

    await asyncio.wait_for(b_member.leading.wait(), WAIT_S)

    assert b_member.epochs == [2]
    assert b.leads("t1")
    assert b.holder("t1") == "node-b"
    await b.stop()


async def test_a_leader_whose_lease_is_taken_resigns() -> None:
    store = MemoryStore()
    await store.open()
    a = Ownership(store, "node-a", ttl=TTL)
    member = Recorder()
    assert await a.claim("t1", member) == 1
    # Someone else takes the lease over (as if node-a had been paused past its ttl).
    await store.release_lease("t1", "node-a", 1)
    assert await store.acquire_lease("t1", "intruder", ttl=60, now=0.0) is not None

    await asyncio.wait_for(member.resigning.wait(), WAIT_S)

    assert member.resigned == 1
    assert not a.leads("t1")
    await a.stop()


async def test_a_released_table_frees_its_lease_for_the_next_claimant() -> None:
    store = MemoryStore()
    await store.open()
    a, b = Ownership(store, "node-a", ttl=60), Ownership(store, "node-b", ttl=60)
    assert await a.claim("t1", Recorder()) == 1
    await a.release("t1")
    assert await b.claim("t1", Recorder()) == 2
    await b.stop()
