"""A reconnecting client that missed more than the replay window gets the ops from the store's log."""

from __future__ import annotations

import random

from crowdfill.server.owner import TableOwner
from crowdfill.store import open_store
from tests.server.owner_support import launch_owner
from tests.server.test_closing import MANY_ROWS, play
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
    async with owner.lock:
        missed = await owner.missed_since(first)
        from_start = await owner.missed_since(first - 1)
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
    async with owner.lock:
        assert await owner.missed_since(owner.seq - 10) is not None
        assert await owner.missed_since(owner.seq - 11) is None
        assert await owner.missed_since(owner.seq) == []
        assert await owner.missed_since(owner.seq + 1) is None  # a future this server never had
    await owner.stop()
    await store.close()
