"""A follower process's client whose forwarded op was sequenced but never acknowledged still sees it.

The leader broadcasts a batch before answering the follower that forwarded an op of it; here the
"leader" is a bus node in the test that sequences on a real owner, broadcasts, and then dies
before answering (issue 18: the sender's seq stayed one short for good).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, cast

from crowdfill.cluster import Bus, Ownership
from crowdfill.model import Fill
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.server.cluster_node import ClusterNode
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import LIVE, Published, TableOwner
from crowdfill.server.sockets import SocketApp
from crowdfill.server.tables import Tables
from crowdfill.store import open_store
from crowdfill.store.port import Store, TableRecord
from tests.server.owner_support import ONE_ROW, QuietListener
from tests.support.live_server import test_settings
from tests.support.services import RedisServer

TABLE = "t-node"
SETTINGS = test_settings(forward_timeout_seconds=0.5)


class RecordingFanout:
    """The follower's socket layer, reduced to what it was asked to send to whom."""

    def __init__(self) -> None:
        self.to_room: list[list[Published]] = []
        self.to_one: list[tuple[str, list[Published]]] = []

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        self.to_room.append(list(entries))

    async def published_to(self, sid: str, entries: Sequence[Published]) -> None:
        self.to_one.append((sid, list(entries)))

    def changed(self, owner: TableOwner) -> None:
        return None


class OneTable:
    def __init__(self, owner: TableOwner) -> None:
        self.owner = owner

    def loaded(self, table_id: str) -> TableOwner | None:
        return self.owner if table_id == self.owner.table_id else None


class FakeLeader:
    """Sequences forwarded ops on a real owner and broadcasts them; answers only if ``answers``."""

    def __init__(self, bus: Bus, owner: TableOwner, answers: bool) -> None:
        self.bus = bus
        self.owner = owner
        self.answers = answers
        bus.on_request = self.on_request

    async def on_request(self, body: dict[str, Any]) -> dict[str, Any]:
        outcome = await self.owner.submit(sequenced_from_wire(body["op"]), body["origin"], body["seen_seq"])
        assert outcome.published is not None, outcome
        entry = outcome.published
        wire = [entry.seq, entry.op, entry.origin, entry.worker]
        await self.bus.broadcast({"table": TABLE, "node": self.bus.node, "epoch": 1, "entries": [wire]})
        if not self.answers:
            await asyncio.Event().wait()  # killed before the reply: it never comes
        return {"published": wire}


async def follower_with_leader(
    redis: RedisServer, store: Store, answers: bool
) -> tuple[ClusterNode, TableOwner, FakeLeader, RecordingFanout]:
    lease = await store.acquire_lease(TABLE, "node-leader", ttl=60, now=time.time())
    assert lease is not None
    spec = spec_from_json(ONE_ROW)
    now = time.time()
    await store.create_table(TableRecord(TABLE, spec.definition, LIVE, now, now))
    leader = TableOwner(TABLE, spec, LIVE, store, SETTINGS, QuietListener())
    leader.epoch = lease.epoch
    await leader.load()
    fanout = RecordingFanout()
    sockets = type("Sockets", (), {"fanout": fanout, "peers": None})()
    # Only the follower's socket layer and table registry are stand-ins (they record, or hold one table).
    node = ClusterNode(
        SETTINGS,
        Bus(redis.url, "node-follower"),
        Ownership(store, "node-follower", ttl=60),
        cast(SocketApp, sockets),
    )
    follower = TableOwner(TABLE, spec, LIVE, store, SETTINGS, QuietListener())
    node.tables = cast(Tables, OneTable(follower))
    await node.attach(follower)
    assert not follower.leading
    await follower.load()
    fake = FakeLeader(Bus(redis.url, "node-leader"), leader, answers)
    await fake.bus.start()
    await node.bus.start()
    return node, follower, fake, fanout


async def test_an_op_sequenced_before_its_leader_died_unanswered_is_sent_to_its_sender(
    redis: RedisServer,
) -> None:
    store = open_store("memory://")
    await store.open()
    node, follower, fake, fanout = await follower_with_leader(redis, store, answers=False)
    try:
        (row,) = [r.row_id for r in follower.table.rows()]
        outcome = await follower.submit(
            Fill("ann", row, "r1", "country", "France", frozenset()), origin="sid-ann", seen_seq=follower.seq
        )
        assert outcome.failure is not None
        assert outcome.failure.code == "store_unavailable"  # unknown to the sender...
        assert follower.seq == fake.owner.seq  # ...but in the log, and applied here from the broadcast
        (entry,) = [entry for batch in fanout.to_room for entry in batch]
        assert entry.seq == fake.owner.seq
        assert entry.origin == "sid-ann"  # the room's copy skipped ann while an ack was expected
        assert fanout.to_one == [("sid-ann", [entry])]
    finally:
        await fake.bus.stop()
        await node.bus.stop()


async def test_an_acknowledged_op_is_not_sent_to_its_sender_a_second_time(redis: RedisServer) -> None:
    store = open_store("memory://")
    await store.open()
    node, follower, fake, fanout = await follower_with_leader(redis, store, answers=True)
    try:
        (row,) = [r.row_id for r in follower.table.rows()]
        outcome = await follower.submit(
            Fill("ann", row, "r1", "country", "France", frozenset()), origin="sid-ann", seen_seq=follower.seq
        )
        assert outcome.published is not None
        assert outcome.published.seq == fake.owner.seq == follower.seq
        assert [entry.origin for batch in fanout.to_room for entry in batch] == ["sid-ann"]
        assert fanout.to_one == []
    finally:
        await fake.bus.stop()
        await node.bus.stop()


async def test_a_follower_hands_its_clients_the_leaders_incarnation_from_the_store_and_its_broadcasts(
    redis: RedisServer,
) -> None:
    store = open_store("memory://")
    await store.open()
    node, follower, fake, _ = await follower_with_leader(redis, store, answers=True)
    try:
        leader = fake.owner
        # Loaded after the leader: it took the leader's run from the store, not a run of its own.
        assert follower.incarnation == leader.incarnation
        first_run, head = leader.incarnation, leader.seq
        # The leader starts a new run (as after a failed append or a takeover) and says so.
        await leader.lead(cast(int, leader.epoch))
        assert leader.incarnation != first_run
        message: dict[str, Any] = {
            "table": TABLE,
            "node": fake.bus.node,
            "epoch": leader.epoch,
            "entries": [],
        }
        await fake.bus.broadcast({**message, "incarnation": list(leader.incarnation_key)})
        deadline = time.monotonic() + 5
        while follower.incarnation != leader.incarnation and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert follower.incarnation == leader.incarnation
        # A client of the first run is trusted up to where the next run started, not beyond.
        assert follower.replays_for(first_run, head)
        assert not follower.replays_for(first_run, head + 1)
    finally:
        await fake.bus.stop()
        await node.bus.stop()


class ShyLeader(FakeLeader):
    """Says it does not lead the table to the first request (so nothing was acted on and the
    follower asks again a moment later), then sequences like ``FakeLeader``."""

    def __init__(self, bus: Bus, owner: TableOwner) -> None:
        super().__init__(bus, owner, answers=True)
        self.turned_away = 0

    async def on_request(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.turned_away:
            self.turned_away += 1
            return {"not_leading": True}
        return await super().on_request(body)


async def test_a_connections_next_operation_waits_while_its_previous_one_is_asked_again(
    redis: RedisServer,
) -> None:
    store = open_store("memory://")
    await store.open()
    node, follower, fake, _ = await follower_with_leader(redis, store, answers=True)
    shy = ShyLeader(fake.bus, fake.owner)
    try:
        (row,) = [r.row_id for r in follower.table.rows()]
        seen = follower.seq
        # Sent together, as a page sends a fill and then a fill of the row it creates; started in
        # tasks in that order, as the socket edge starts them on a follower.
        first = asyncio.ensure_future(
            follower.submit(
                Fill("ann", row, "r1", "country", "France", frozenset()), origin="sid-ann", seen_seq=seen
            )
        )
        second = asyncio.ensure_future(
            follower.submit(
                Fill("ann", "r1", "r2", "capital", "Paris", frozenset()), origin="sid-ann", seen_seq=seen
            )
        )
        outcomes = await asyncio.gather(first, second)
        assert shy.turned_away == 1
        assert [o.failure for o in outcomes] == [None, None]
        assert [o.published.seq for o in outcomes if o.published is not None] == [seen + 1, seen + 2]
        assert len(cast(Any, follower.remote)._turns) == 0  # nothing kept once the connection's turns ended
    finally:
        await fake.bus.stop()
        await node.bus.stop()
