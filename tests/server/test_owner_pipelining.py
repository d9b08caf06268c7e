"""With early forwarding, operations that arrive while a batch's append is in flight are forwarded
at once and appended right after it: every operation is forwarded once, in seq order, and
acknowledged after its own append, in seq order (``TableOwner._commit``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from crowdfill.model import Fill
from crowdfill.server.owner import Published, TableOwner
from crowdfill.store import open_store
from tests.server.owner_support import SlowAppends, launch_owner, logged_operations
from tests.support.live_server import test_settings

WIDE: dict[str, Any] = {
    "name": "Wide",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
    "template": [{} for _ in range(40)],
    "budget_cents": 1000,
}


class Forwarded:
    """The owner's early forwarder: what it was given, and whether an append was in flight then."""

    def __init__(self, store: SlowAppends) -> None:
        self.store = store
        self.entries: list[Published] = []
        self.during_append = 0

    async def forward(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        self.entries.extend(entries)
        self.during_append += self.store.appending

    async def reset(self, owner: TableOwner) -> None:
        raise AssertionError("no append fails here")


async def test_operations_arriving_during_an_append_are_forwarded_once_and_acked_in_seq_order() -> None:
    store = SlowAppends(open_store("memory://"), delay=0.02)
    await store.inner.open()
    owner = await launch_owner(store, WIDE)  # type: ignore[arg-type]  # duck-typed store
    forwarder = Forwarded(store)
    owner.early = forwarder
    start = owner.seq
    rows = [row.row_id for row in owner.table.rows()]
    acked: list[int] = []

    async def fill(index: int) -> int:
        await asyncio.sleep(index * 0.003)  # staggered: most arrive while an append is in flight
        op = Fill(f"w{index % 4}", rows[index], f"new-{index}", "a", f"v{index}", frozenset())
        outcome = await owner.submit(op)
        assert outcome.published is not None, outcome.failure
        acked.append(outcome.published.seq)
        return outcome.published.seq

    seqs = await asyncio.gather(*(fill(index) for index in range(len(rows))))
    assert len(store.appends) < len(rows)  # what arrived meanwhile was appended together
    forwarded = [entry.seq for entry in forwarder.entries]
    assert forwarded == list(range(start + 1, start + len(rows) + 1))  # each once, in order
    assert sorted(seqs) == forwarded
    assert acked == forwarded  # acknowledged in seq order
    for index, seq in enumerate(seqs):
        assert forwarder.entries[seq - start - 1].op["new_row_id"] == f"new-{index}"
    log = await logged_operations(store.inner, owner.table_id)
    assert [seq for seq, _ in log if seq > start] == forwarded
    assert [seq for batch in store.appends for seq in batch if seq > start] == forwarded

    # Forwards do not wait for the append before them (whatever the timing above was like).
    first = asyncio.ensure_future(owner.submit(Fill("w0", "new-0", "again-0", "b", "x", frozenset())))
    for _ in range(2000):
        if store.appending:
            break
        await asyncio.sleep(0.001)
    assert store.appending
    during = forwarder.during_append
    second = await owner.submit(Fill("w1", "new-1", "again-1", "b", "y", frozenset()))
    assert forwarder.during_append == during + 1
    assert (await first).published is not None
    assert second.published is not None
    await owner.stop()


async def linger_owner(linger: float) -> tuple[TableOwner, SlowAppends, Forwarded, list[str]]:
    store = SlowAppends(open_store("memory://"), delay=0.0)
    await store.inner.open()
    owner = await launch_owner(store, WIDE, settings=test_settings(commit_linger_seconds=linger))  # type: ignore[arg-type]  # duck-typed store
    for _ in range(200):  # the central client's inserts for the template, appended after launch
        if owner.seq == len(WIDE["template"]) and owner.idle:
            break
        await asyncio.sleep(0.01)
    store.appends.clear()
    forwarder = Forwarded(store)
    owner.early = forwarder
    return owner, store, forwarder, [row.row_id for row in owner.table.rows()]


def filling(rows: list[str], index: int) -> Fill:
    return Fill(f"w{index}", rows[index], f"new-{index}", "a", f"v{index}", frozenset())


async def test_operations_arriving_within_the_commit_linger_are_forwarded_at_once_and_share_one_append() -> (
    None
):
    owner, store, forwarder, rows = await linger_owner(0.3)
    start = owner.seq
    first = asyncio.ensure_future(owner.submit(filling(rows, 0)))
    await asyncio.sleep(0.05)
    more = [asyncio.ensure_future(owner.submit(filling(rows, index))) for index in (1, 2)]
    await asyncio.sleep(0.05)
    # Everyone has seen all three; none is durable, so none is acknowledged yet.
    assert [entry.seq for entry in forwarder.entries] == [start + 1, start + 2, start + 3]
    assert store.appends == []
    assert not any(task.done() for task in (first, *more))
    outcomes = [await task for task in (first, *more)]
    assert [outcome.published.seq for outcome in outcomes if outcome.published] == [
        start + 1,
        start + 2,
        start + 3,
    ]
    assert store.appends == [[start + 1, start + 2, start + 3]]
    await owner.stop()
    log = await logged_operations(store.inner, owner.table_id)
    assert [seq for seq, _ in log if seq > start] == [start + 1, start + 2, start + 3]


async def test_without_a_commit_linger_each_operation_is_appended_as_it_comes() -> None:
    owner, store, forwarder, rows = await linger_owner(0.0)
    start = owner.seq
    for index in range(3):
        outcome = await asyncio.wait_for(owner.submit(filling(rows, index)), timeout=0.25)
        assert outcome.published is not None
    await owner.stop()
    assert store.appends == [[start + 1], [start + 2], [start + 3]]
    assert len(forwarder.entries) == 3
