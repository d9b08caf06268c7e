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
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from crowdfill.server.definition import DefinitionModel, DefinitionPatch, TableSpec, build_spec, patched
from crowdfill.server.definition import spec_from_json as _spec_from_json
from crowdfill.server.events import NoEvents, TableEvents
from crowdfill.server.failures import Failure
from crowdfill.server.finished import current_summary, save_summary
from crowdfill.server.owner import DRAFT, LIVE, EarlyForward, OwnerListener, TableOwner
from crowdfill.server.settings import Settings
from crowdfill.server.table_assistant import check_assistant
from crowdfill.store.port import JSON, Store, StoreError, TableRecord

logger = logging.getLogger(__name__)

BLOCK_KIND = "block"
# A deleted draft keeps its record under this status (no store can lose a table by mistake); every
# read treats it as absent.
DELETED = "deleted"


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
        # table id -> when it was last asked for (time.monotonic()), for unloading idle tables.
        self._used: dict[str, float] = {}
        self._new_id: Callable[[], str] = lambda: "t-" + secrets.token_hex(5)
        # Where owners forward batches before their append (the app sets the sockets' fan-out);
        # used only with ``Settings.early_forward``.
        self.forwarder: EarlyForward | None = None
        self.events: TableEvents = NoEvents()
        # table id -> its model in the loop's status for the monitor (the app sets the runner's).
        self.model_status: Callable[[str], dict[str, Any] | None] = lambda table_id: None
        # Called with every owner once loaded (the app starts its reputation emitter), and each
        # worker's reputation row for the monitor (crowdfill.server.reputation_service).
        self.attach: Callable[[TableOwner], None] = lambda owner: None
        self.reputation_rows: Callable[[TableOwner], list[dict[str, Any]]] = lambda owner: []
        self.cluster: Claims | None = None  # None: this process is the only one

    # ------------------------------------------------------------------ reading
    async def record(self, table_id: str) -> TableRecord:
        record = await self.store.get_table(table_id) if _plausible_id(table_id) else None
        if record is None or record.status == DELETED:
            raise Failure("table_not_found", f"no table with id {table_id!r}")
        return record

    async def list(self) -> list[TableRecord]:
        return [record for record in await self.store.list_tables() if record.status != DELETED]

    def spec(self, record: TableRecord) -> TableSpec:
        """The domain objects of a stored definition (cached: rebuilding a template costs time)."""
        cached = self._specs.get(record.table_id)
        if cached is None or cached.definition != record.definition:
            cached = _spec_from_json(record.definition)
            self._specs[record.table_id] = cached
        return cached

    async def summary(self, record: TableRecord) -> JSON | None:
        """The stored summary of a table that is not loaded; None when it must be loaded to be read."""
        if record.status == DRAFT or record.table_id in self._owners:
            return None
        return await current_summary(self.store, record)

    def loaded(self, table_id: str) -> TableOwner | None:
        return self._owners.get(table_id)

    def live_owners(self) -> tuple[TableOwner, ...]:
        return tuple(owner for owner in self._owners.values() if owner.status == LIVE)

    async def owner(self, table_id: str) -> TableOwner | None:
        """The table's owner (loading it from storage when needed), None for a draft."""
        self._used[table_id] = time.monotonic()
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
        if self._settings.early_forward:
            owner.early = self.forwarder
        if self.cluster is not None:
            await self.cluster.attach(owner)
        await owner.load()
        self._owners[record.table_id] = owner
        # Loading is a use: a table just launched (or loaded by a read) is not idle from the start.
        self._used[record.table_id] = max(time.monotonic(), self.last_used(record.table_id))
        self.attach(owner)
        return owner

    # ------------------------------------------------------------------ lifecycle
    async def recover(self) -> int:
        """Rebuild every live table from storage (at startup). Returns how many."""
        count = 0
        for record in await self.store.list_tables():
            # A table unloaded while idle, unchanged since, waits for its first use (``finished``).
            if record.status == LIVE and await current_summary(self.store, record) is None:
                await self.owner(record.table_id)
                count += 1
        return count

    async def create(self, model: DefinitionModel) -> TableRecord:
        spec = build_spec(model)
        await check_assistant(spec.definition, spec.schema)
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
            await check_assistant(spec.definition, spec.schema)
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

    async def delete(self, table_id: str) -> None:
        """Delete a draft; a launched table has rows and workers, and is closed instead."""
        lock = self._loading.setdefault(table_id, asyncio.Lock())
        async with lock:
            record = await self.record(table_id)
            if record.status != DRAFT:
                raise Failure(
                    "table_not_draft",
                    f"table {table_id!r} is {record.status}; "
                    "only a draft can be deleted (close a live table)",
                )
            await self.store.update_table(table_id, status=DELETED, at=time.time())
            self._specs.pop(table_id, None)

    async def close(self, table_id: str) -> TableRecord:
        owner = await self.owner(table_id)
        if owner is None:
            raise Failure("table_not_live", f"table {table_id!r} is a draft; there is nothing to close")
        await owner.close()
        return await self.record(table_id)

    def loaded_ids(self) -> tuple[str, ...]:
        return tuple(self._owners)

    def last_used(self, table_id: str) -> float:
        """When the table was last asked for (time.monotonic()); -inf if never."""
        return self._used.get(table_id, float("-inf"))

    def touch(self, table_id: str, at: float) -> None:
        self._used[table_id] = max(at, self.last_used(table_id))

    async def unload(self, table_id: str, unused_since: float) -> bool:
        """Drop an idle table from memory (it reloads on first use); whether it was unloaded.

        Only if nobody asked for it after ``unused_since`` (time.monotonic()) and its owner has
        nothing queued or running. Runs under the table's loading lock, so a request that arrives
        meanwhile waits, then loads it again.
        """
        lock = self._loading.setdefault(table_id, asyncio.Lock())
        async with lock:
            owner = self._owners.get(table_id)
            if owner is None or not owner.idle or self.last_used(table_id) > unused_since:
                return False
            # Out of the registry first: a request from now on waits for this lock and reloads it.
            del self._owners[table_id]
            try:
                if owner.live:
                    # Lets listings show it, also while it unloads (its state no longer changes), and
                    # the next startup leave it unloaded while nothing changes.
                    await save_summary(self.store, owner)
                await owner.unload()
            except StoreError:
                self._owners[table_id] = owner  # storage failed: it stays loaded and running
                raise
            if self.cluster is not None:
                await self.cluster.detach(table_id)  # another process may lead it now
            return True

    async def shutdown(self, capture_seconds: float = 0.0) -> None:
        """Stop every loaded table. With ``capture_seconds`` > 0, first capture each live table
        whose stored capture is behind it (one at a time: each forks a child as large as the
        process), for at most that long in all; what is not captured by then replays its tail at
        the next start, as after a crash."""
        owners, self._owners = list(self._owners.values()), {}
        if capture_seconds > 0:
            await self._capture_all(owners, capture_seconds)
        for owner in owners:
            await owner.stop()

    async def _capture_all(self, owners: Sequence[TableOwner], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        left = 0
        for owner in owners:
            if time.monotonic() >= deadline:
                left += 1
                continue
            try:
                captured = await owner.capture_before_stop(deadline)
            except StoreError as error:  # the log is still the truth: the next start replays it
                logger.error("table %s: no capture at shutdown: %s", owner.table_id, error)
                continue
            if not captured and owner.live and time.monotonic() >= deadline:
                left += 1
        if left:
            logger.warning(
                "shutdown: %d table(s) not captured within %.1f s replay their log tail at the next start",
                left,
                seconds,
            )


def _plausible_id(table_id: str) -> bool:
    return 0 < len(table_id) <= 100
