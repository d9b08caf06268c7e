"""The table registry: table lifecycle (draft -> live -> complete | closed) and the live owners.

Every change of a table's rows goes through its ``TableOwner``; this module only creates tables,
edits drafts, launches, closes, and loads owners (eagerly for live tables at startup, lazily for
finished ones when someone reads them).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from crowdfill.server.definition import DefinitionModel, DefinitionPatch, TableSpec, build_spec, patched
from crowdfill.server.definition import spec_from_json as _spec_from_json
from crowdfill.server.events import NoEvents, TableEvents
from crowdfill.server.failures import Failure
from crowdfill.server.owner import DRAFT, LIVE, OwnerListener, TableOwner
from crowdfill.server.settings import Settings
from crowdfill.store.port import Store, TableRecord

logger = logging.getLogger(__name__)

BLOCK_KIND = "block"


class Claims(Protocol):
    """Several processes (``crowdfill.server.cluster_node``): whether this one leads a table it loads."""

    async def attach(self, owner: TableOwner) -> None:
        """Before a live table's owner loads: lead it (its lease is free) or follow it."""

    async def detach(self, table_id: str) -> None:
        """After a table is unloaded here: free its lease for another process."""


class Tables:
    def __init__(self, store: Store, settings: Settings, listener: OwnerListener) -> None:
        self.store = store
        self._settings = settings
        self._listener = listener
        self._owners: dict[str, TableOwner] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._specs: dict[str, TableSpec] = {}
        self._new_id: Callable[[], str] = lambda: "t-" + secrets.token_hex(5)
        self.events: TableEvents = NoEvents()
        # table id -> its model in the loop's status for the monitor (the app sets the runner's).
        self.model_status: Callable[[str], dict[str, Any] | None] = lambda table_id: None
        self.cluster: Claims | None = None  # None: this process is the only one

    # ------------------------------------------------------------------ reading
    async def record(self, table_id: str) -> TableRecord:
        record = await self.store.get_table(table_id) if _plausible_id(table_id) else None
        if record is None:
            raise Failure("table_not_found", f"no table with id {table_id!r}")
        return record

    async def list(self) -> list[TableRecord]:
        return await self.store.list_tables()

    def spec(self, record: TableRecord) -> TableSpec:
        """The domain objects of a stored definition (cached: rebuilding a template costs time)."""
        cached = self._specs.get(record.table_id)
        if cached is None or cached.definition != record.definition:
            cached = _spec_from_json(record.definition)
            self._specs[record.table_id] = cached
        return cached

    def loaded(self, table_id: str) -> TableOwner | None:
        return self._owners.get(table_id)

    async def owner(self, table_id: str) -> TableOwner | None:
        """The table's owner (loading it from storage when needed), None for a draft."""
        owner = self._owners.get(table_id)
        if owner is not None:
            return owner
        lock = self._loading.setdefault(table_id, asyncio.Lock())
        async with lock:
            owner = self._owners.get(table_id)
            if owner is not None:
                return owner
            record = await self.record(table_id)
            if record.status == DRAFT:
                return None
            return await self._load(record)

    async def _load(self, record: TableRecord) -> TableOwner:
        owner = TableOwner(
            record.table_id, self.spec(record), record.status, self.store, self._settings, self._listener
        )
        owner.blocked = {key for key, _ in await self.store.list_items(record.table_id, BLOCK_KIND)}
        if self.cluster is not None:
            await self.cluster.attach(owner)
        await owner.load()
        self._owners[record.table_id] = owner
        return owner

    # ------------------------------------------------------------------ lifecycle
    async def recover(self) -> int:
        """Rebuild every live table from storage (at startup). Returns how many."""
        count = 0
        for record in await self.store.list_tables():
            if record.status == LIVE:
                await self.owner(record.table_id)
                count += 1
        return count

    async def create(self, model: DefinitionModel) -> TableRecord:
        spec = build_spec(model)
        now = time.time()
        record = TableRecord(self._new_id(), spec.definition, DRAFT, now, now)
        await self.store.create_table(record)
        self._specs[record.table_id] = spec
        return record

    async def patch(self, table_id: str, patch: DefinitionPatch) -> TableRecord:
        lock = self._loading.setdefault(table_id, asyncio.Lock())
        async with lock:
            record = await self.record(table_id)
            if record.status != DRAFT:
                raise Failure(
                    "table_not_draft", f"table {table_id!r} is {record.status}; only drafts can be edited"
                )
            spec = build_spec(patched(record.definition, patch))
            updated = await self.store.update_table(table_id, definition=spec.definition, at=time.time())
            self._specs[table_id] = spec
            return updated

    async def launch(self, table_id: str) -> TableRecord:
        lock = self._loading.setdefault(table_id, asyncio.Lock())
        async with lock:
            record = await self.record(table_id)
            if record.status != DRAFT:
                raise Failure("table_not_draft", f"table {table_id!r} is already {record.status}")
            updated = await self.store.update_table(table_id, status=LIVE, at=time.time())
            await self._load(updated)
        await self.events.table_launched(table_id)
        return await self.record(table_id)

    async def close(self, table_id: str) -> TableRecord:
        owner = await self.owner(table_id)
        if owner is None:
            raise Failure("table_not_live", f"table {table_id!r} is a draft; there is nothing to close")
        await owner.close()
        return await self.record(table_id)

    async def shutdown(self) -> None:
        owners, self._owners = list(self._owners.values()), {}
        for owner in owners:
            await owner.stop()


def _plausible_id(table_id: str) -> bool:
    return 0 < len(table_id) <= 100
