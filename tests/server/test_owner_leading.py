"""An owner sequences only while it leads: fenced off by a newer epoch, and a follower replays the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, cast

from crowdfill.model import Downvote, Fill, Sequenced
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import LIVE, Outcome, Published, TableOwner
from crowdfill.store import open_store
from crowdfill.store.port import Store, TableRecord
from tests.server.owner_support import ONE_ROW, QuietListener, launch_owner, logged_operations
from tests.support.live_server import test_settings

TTL = 60.0


async def leading_owner(store: Store, holder: str = "a") -> TableOwner:
    lease = await store.acquire_lease("t-owner", holder, ttl=TTL, now=time.time())
    assert lease is not None
    spec = spec_from_json(ONE_ROW)
    now = time.time()
    await store.create_table(TableRecord("t-owner", spec.definition, LIVE, now, now))
    owner = TableOwner("t-owner", spec, LIVE, store, test_settings(), QuietListener())
    owner.epoch = lease.epoch
    await owner.load()
    return owner


async def test_an_owner_whose_lease_was_taken_over_cannot_append_and_stops_leading() -> None:
    store = open_store("memory://")
    await store.open()
    owner = await leading_owner(store)
    (row,) = [r.row_id for r in owner.table.rows()]
    logged = len(await logged_operations(store, "t-owner"))
    # Another process takes the lease over (as after an expiry): the store now fences epoch 1 off.
    await store.release_lease("t-owner", "a", 1)
    assert await store.acquire_lease("t-owner", "b", ttl=TTL, now=time.time()) is not None

    outcome = await owner.submit(Fill("ann", row, "r1", "country", "France", frozenset()))

    assert outcome.failure is not None
    assert outcome.failure.code == "store_unavailable"
    assert not owner.leading
    assert len(await logged_operations(store, "t-owner")) == logged
    await owner.stop()


async def test_a_follower_applies_what_the_leader_published_and_rebuilds_from_the_store_on_a_gap() -> None:
    store = open_store("memory://")
    await store.open()
    leader = await launch_owner(store, {**ONE_ROW, "template": [{}, {}, {}]})
    listener = QuietListener()
    follower = TableOwner("t-owner", leader.spec, LIVE, store, test_settings(), listener)
    follower.leading = False
    await follower.load()
    assert follower.seq == leader.seq
    rows = [r.row_id for r in leader.table.rows()]
    published = []
    for index, row in enumerate(rows):
        outcome = await leader.submit(
            Fill(f"w{index}", row, f"r{index}", "country", f"C{index}", frozenset())
        )
        assert outcome.published is not None
        published.append(outcome.published)

    applied = await follower.follow(published[:1])  # continues the follower's seq: applied as is
    assert [e.seq for e in applied] == [published[0].seq]
    applied = await follower.follow(published[2:])  # a gap: rebuilt from the store, the gap included
    assert [e.seq for e in applied] == [e.seq for e in published[1:]]

    assert follower.seq == leader.seq
    assert follower.table.rows() == leader.table.rows()
    assert follower.ops_since(published[0].seq) == leader.ops_since(published[0].seq)
    await leader.stop()


async def test_a_follower_learns_the_gold_rows_from_the_leaders_published_inserts() -> None:
    store = open_store("memory://")
    await store.open()
    gold = [{"values": {"country": "Italy", "capital": "Milan"}, "verdict": False}]
    spec = spec_from_json({**ONE_ROW, "gold": gold})
    now = time.time()
    await store.create_table(TableRecord("t-owner", spec.definition, LIVE, now, now))
    follower = TableOwner("t-owner", spec, LIVE, store, test_settings(), QuietListener())
    follower.leading = False
    await follower.load()  # before the leader's launch batch: nothing in the log yet
    told = QuietListener()
    leader = TableOwner("t-owner", spec, LIVE, store, test_settings(), told)
    await leader.load()
    assert all("gold" not in entry.op for entry in told.entries)  # what pages see has no flag

    applied = await follower.follow(told.entries)

    assert [e.seq for e in applied] == [e.seq for e in told.entries]
    assert follower.table.gold_ids() == leader.table.gold_ids() != frozenset()
    assert follower.table.final_table() == leader.table.final_table()
    await leader.stop()
    await follower.stop()


class _GatedLog:
    """The store, with ``read_log`` held until ``gate`` opens (a takeover's rebuild taking a while)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def read_log(self, table_id: str) -> Any:
        self.reading.set()
        await self.gate.wait()
        return await self._store.read_log(table_id)


class _NoRemote:
    async def submit(self, op: Sequenced, origin: str | None, seen_seq: int | None) -> Outcome:
        raise AssertionError("a process that leads does not forward")

    async def close(self) -> None:
        raise AssertionError("a process that leads does not forward")


async def test_an_op_submitted_while_a_takeover_rebuilds_the_table_is_sequenced_once_it_leads() -> None:
    store = open_store("memory://")
    await store.open()
    leader = await launch_owner(store, ONE_ROW)
    (row,) = [r.row_id for r in leader.table.rows()]
    await leader.stop()
    gated = _GatedLog(store)
    follower = TableOwner("t-owner", leader.spec, LIVE, cast(Store, gated), test_settings(), QuietListener())
    follower.leading = False
    follower.remote = _NoRemote()
    gated.gate.set()
    await follower.load()
    gated.gate.clear()
    gated.reading.clear()

    lease = await store.acquire_lease("t-owner", "b", ttl=TTL, now=time.time())
    assert lease is not None
    taking_over = asyncio.create_task(follower.lead(lease.epoch))
    await gated.reading.wait()  # leading, but its loop starts only after the rebuild
    submitted = asyncio.create_task(follower.submit(Fill("ann", row, "r1", "country", "France", frozenset())))
    await asyncio.sleep(0.05)
    gated.gate.set()
    await taking_over
    outcome = await submitted

    assert outcome.failure is None, outcome.failure
    assert outcome.published is not None
    assert outcome.published.seq == follower.seq
    await follower.stop()


class Batches(QuietListener):
    """The leader's listener, keeping each published batch as the cluster's bus carries it."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[Published]] = []

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        self.batches.append(list(entries))


async def test_a_follower_settles_each_insert_the_central_client_plans_with_the_leaders_insert() -> None:
    store = open_store("memory://")
    await store.open()
    spec = spec_from_json({**ONE_ROW, "template": [{} for _ in range(6)]})
    now = time.time()
    await store.create_table(TableRecord("t-owner", spec.definition, LIVE, now, now))
    batches = Batches()
    leader = TableOwner("t-owner", spec, LIVE, store, test_settings(), batches)
    await leader.load()
    follower = TableOwner("t-owner", spec, LIVE, store, test_settings(), QuietListener())
    follower.leading = False
    await follower.load()
    followed = len(batches.batches)
    # Each downvote turns a filled row red, so the leader's central client inserts a row again.
    for index in range(20):
        empty = next(row.row_id for row in leader.table.rows() if not row.values)
        filled = await leader.submit(
            Fill(f"w{index}", empty, f"r{index}", "country", f"C{index}", frozenset())
        )
        assert filled.published is not None
        assert (await leader.submit(Downvote("x", f"r{index}", frozenset()))).published is not None
    assert leader.central.inserted_count >= 20
    for batch in batches.batches[followed:]:
        assert await follower.follow(batch) == batch  # each continues the follower's seq

    assert follower.seq == leader.seq
    assert follower.table.rows() == leader.table.rows()
    # Planned with the leader's row ids, every insert was settled by the logged one: none pending.
    assert follower.central.pending_inserts() == []
    await leader.stop()
    await follower.stop()
    await store.close()
