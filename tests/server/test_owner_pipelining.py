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
from crowdfill.store.port import LogRecord, Store
from tests.server.owner_support import launch_owner, logged_operations

WIDE: dict[str, Any] = {
    "name": "Wide",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
    "template": [{} for _ in range(40)],
    "budget_cents": 1000,
}


class SlowAppends:
    """A store whose appends take ``delay`` seconds (a slow fsync); it counts them."""

    def __init__(self, inner: Store, delay: float) -> None:
        self.inner = inner
        self.delay = delay
        self.appending = False
        self.appends: list[list[int]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        self.appending = True
        try:
            await asyncio.sleep(self.delay)
            await self.inner.append(table_id, records, epoch=epoch)
        finally:
            self.appending = False
        self.appends.append([record.seq for record in records])


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
    await owner.stop()
    assert forwarder.during_append > 0  # forwards did not wait for the append before them
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
