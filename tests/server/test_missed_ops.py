"""A reconnecting client that missed more than the replay window gets the ops from the store's log."""

from __future__ import annotations

import asyncio
import random

from crowdfill.server.owner import TableOwner
from crowdfill.store import open_store
from crowdfill.store.memory import MemoryStore
from crowdfill.store.port import LogRecord
from tests.server.owner_support import launch_owner
from tests.server.test_closing import MANY_ROWS, play, random_operation
from tests.support.live_server import test_settings


def published(owner: TableOwner) -> list[tuple[int, dict[str, object]]]:
    listener = owner._listener
    return [(entry.seq, entry.op) for entry in listener.entries]  # type: ignore[attr-defined]  # QuietListener


async def test_ops_older_than_the_replay_window_come_from_the_store_as_they_were_published() -> None:
    store = open_store("memory://")
    await store.open()

    owner = await launch_owner(store, MANY_ROWS, settings=test_settings(replay_window=5))
    await play(owner, random.Random(3), 40)
    sent = published(owner)
    assert len(sent) > 20
    first = sent[0][0]
    assert owner.ops_since(first) is None  # older than what memory keeps
    missed_read = await owner.read_missed(first)
    from_start_read = await owner.read_missed(first - 1)
    async with owner.lock:
        missed = owner.missed_since(first, missed_read)
        from_start = owner.missed_since(first - 1, from_start_read)
    assert missed == [(seq, op) for seq, op in sent if seq > first]
    assert from_start is not None
    assert [seq for seq, _ in from_start] == list(range(first, owner.seq + 1))
    await owner.stop()
    await store.close()


async def test_a_gap_larger_than_the_store_replay_limit_gets_a_snapshot() -> None:
    store = open_store("memory://")
    await store.open()

    settings = test_settings(replay_window=5, replay_from_store=10)
    owner = await launch_owner(store, MANY_ROWS, settings=settings)
    await play(owner, random.Random(4), 30)
    assert owner.seq > 20

    async def missed(seq: int) -> list[tuple[int, dict[str, object]]] | None:
        stored = await owner.read_missed(seq)
        async with owner.lock:
            return owner.missed_since(seq, stored)

    assert await missed(owner.seq - 10) is not None
    assert await missed(owner.seq - 11) is None
    assert await missed(owner.seq) == []
    assert await missed(owner.seq + 1) is None  # a future this server never had
    await owner.stop()
    await store.close()


class HeldLogStore(MemoryStore):
    """A store whose log reads wait until ``release`` is set, once ``hold`` is."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        records = await super().read_log(table_id, after_seq, limit)
        if self.hold:
            self.reading.set()
            await self.release.wait()
        return records


async def test_a_commit_completes_while_old_ops_are_read_and_the_reconnecting_client_gets_them_all() -> None:
    store = HeldLogStore()
    await store.open()
    owner = await launch_owner(store, MANY_ROWS, settings=test_settings(replay_window=5))
    rng = random.Random(5)
    await play(owner, rng, 40)
    first = published(owner)[0][0]
    assert owner.ops_since(first) is None
    store.hold = True

    async def reconnect() -> list[tuple[int, dict[str, object]]] | None:
        stored = await owner.read_missed(first)
        async with owner.lock:
            return owner.missed_since(first, stored)

    replay = asyncio.create_task(reconnect())
    await asyncio.wait_for(store.reading.wait(), 5)
    before = owner.seq
    serial = 1000
    # The read is blocked with the log as it was: a commit now must not wait for it.
    while owner.seq == before:
        outcome = await asyncio.wait_for(owner.submit(random_operation(owner, rng, serial)), 5)
        serial += 1
    assert outcome.published is not None
    assert not replay.done()
    store.release.set()
    missed = await asyncio.wait_for(replay, 5)

    assert missed is not None
    assert [seq for seq, _ in missed] == list(range(first + 1, owner.seq + 1))
    assert missed == [(seq, op) for seq, op in published(owner) if seq > first]
    await owner.stop()
    await store.close()
