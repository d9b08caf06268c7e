"""A ``TableOwner`` on its own (no HTTP, no sockets) over a real store, for the owner's own tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from crowdfill.model import Operation
from crowdfill.model.codec import operation_from_wire
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import LIVE, Outcome, Published, TableOwner
from crowdfill.server.settings import Settings
from crowdfill.store.port import LogRecord, Store, TableRecord
from tests.support.live_server import test_settings

# One empty template row: the central client inserts one empty row at launch, and the template is
# satisfied as soon as any complete row is final. "difference" scoring makes one upvote final and
# one downvote undo it.
ONE_ROW: dict[str, Any] = {
    "name": "One row",
    "instructions": "Any country with its capital.",
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
    "scoring": {"family": "difference", "min_votes": 0},
    "template": [{}],
    "budget_cents": 100,
}


class QuietListener:
    """The owner's outside world, reduced to counting what it is told."""

    def __init__(self) -> None:
        self.entries: list[Published] = []
        self.completions = 0

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        self.entries.extend(entries)

    async def completed(self, owner: TableOwner) -> None:
        self.completions += 1

    def changed(self, owner: TableOwner) -> None:
        return None


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


class RecordingForward:
    """The owner's early forwarder (``Settings.early_forward``): what it was given, and what the
    table held of each forwarded operation's row at that moment."""

    def __init__(self) -> None:
        self.entries: list[Published] = []
        self.forwards: list[list[int]] = []
        # For each forwarded fill: whether its new row was in the owner's table when it was forwarded.
        self.new_row_present: dict[str, bool] = {}
        self.resets = 0

    async def forward(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        self.entries.extend(entries)
        self.forwards.append([entry.seq for entry in entries])
        for entry in entries:
            new_row_id = entry.op.get("new_row_id")
            if isinstance(new_row_id, str):
                self.new_row_present[new_row_id] = owner.table.known(new_row_id)

    async def reset(self, owner: TableOwner) -> None:
        self.resets += 1


async def launch_owner(
    store: Store, definition: dict[str, Any], table_id: str = "t-owner", settings: Settings | None = None
) -> TableOwner:
    """Store a live table with ``definition`` and start its owner (the central client seeds it)."""
    spec = spec_from_json(definition)
    now = time.time()
    await store.create_table(TableRecord(table_id, spec.definition, LIVE, now, now))
    owner = TableOwner(table_id, spec, LIVE, store, settings or test_settings(), QuietListener())
    await owner.load()
    return owner


async def submit_together(owner: TableOwner, ops: Sequence[Operation]) -> list[Outcome]:
    """Submit ``ops`` concurrently so they are queued before the owner's loop runs: one batch."""
    return list(await asyncio.gather(*(owner.submit(op) for op in ops)))


async def submit_apart(owner: TableOwner, ops: Sequence[Operation], gap: float) -> list[Outcome]:
    """Submit ``ops`` ``gap`` seconds apart (each in a batch of its own if the owner keeps up)."""
    pending = []
    for op in ops:
        pending.append(asyncio.ensure_future(owner.submit(op)))
        await asyncio.sleep(gap)
    return list(await asyncio.gather(*pending))


async def logged_operations(store: Store, table_id: str) -> list[tuple[int, Operation]]:
    return [(r.seq, operation_from_wire(r.operation)) for r in await store.read_log(table_id)]
