"""An in-memory store: persistence off (benchmarks, ``memory://``). Same contract as the others.

Payloads are kept as JSON text, as the durable adapters keep them, so callers get the same
validation and fresh copies on every read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from crowdfill.store._common import (
    RELEASED,
    check_batch,
    check_capture,
    check_epoch,
    check_lease_args,
    check_read,
    check_snapshot_seq,
    decode_json,
    encode_json,
)
from crowdfill.store.port import (
    JSON,
    Lease,
    LogRecord,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)


@dataclasses.dataclass
class _Table:
    table_id: str
    definition: str
    status: str
    created_at: float
    updated_at: float
    log: list[tuple[int, str, float]] = dataclasses.field(default_factory=list)
    snapshot: tuple[int, str] | None = None
    capture: tuple[int, bytes] | None = None

    def record(self) -> TableRecord:
        return TableRecord(
            self.table_id, decode_json(self.definition), self.status, self.created_at, self.updated_at
        )


class MemoryStore:
    """Everything in dicts; lost when the process ends. Data survives ``close`` and ``open``."""

    def __init__(self) -> None:
        self._open = False
        self._tables: dict[str, _Table] = {}
        self._items: dict[tuple[str, str], dict[str, str]] = {}
        self._leases: dict[str, Lease] = {}

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreError("the in-memory store is not open")

    def _table(self, table_id: str) -> _Table:
        self._check_open()
        table = self._tables.get(table_id)
        if table is None:
            raise UnknownTable(f"no table {table_id!r} is stored")
        return table

    async def create_table(self, record: TableRecord) -> None:
        self._check_open()
        definition = encode_json(record.definition)
        if record.table_id in self._tables:
            raise StoreConflict(f"a table {record.table_id!r} is already stored")
        self._tables[record.table_id] = _Table(
            record.table_id, definition, record.status, record.created_at, record.updated_at
        )

    async def update_table(
        self, table_id: str, *, definition: JSON | None = None, status: str | None = None, at: float
    ) -> TableRecord:
        text = None if definition is None else encode_json(definition)
        table = self._table(table_id)
        if text is not None:
            table.definition = text
        if status is not None:
            table.status = status
        table.updated_at = at
        return table.record()

    async def get_table(self, table_id: str) -> TableRecord | None:
        self._check_open()
        table = self._tables.get(table_id)
        return None if table is None else table.record()

    async def list_tables(self) -> list[TableRecord]:
        self._check_open()
        ordered = sorted(self._tables.values(), key=lambda t: (t.created_at, t.table_id))
        return [table.record() for table in ordered]

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        self._check_open()
        if not records:
            return
        rows = [(record.seq, encode_json(record.operation), float(record.at)) for record in records]
        table = self._table(table_id)
        lease = self._leases.get(table_id)
        check_epoch(table_id, epoch, None if lease is None else lease.epoch)
        check_batch(table_id, len(table.log), records)
        table.log.extend(rows)

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        check_read(after_seq, limit)
        self._check_open()
        table = self._tables.get(table_id)
        if table is None:
            return []
        start = max(after_seq, 0)
        stop = None if limit is None else start + limit
        return [LogRecord(seq, decode_json(text), at) for seq, text, at in table.log[start:stop]]

    async def last_seq(self, table_id: str) -> int:
        self._check_open()
        table = self._tables.get(table_id)
        return 0 if table is None else len(table.log)

    async def save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        text = encode_json(state)
        table = self._table(table_id)
        check_snapshot_seq(table_id, seq, len(table.log))
        if table.snapshot is None or table.snapshot[0] <= seq:  # an older snapshot never replaces a newer one
            table.snapshot = (seq, text)

    async def load_snapshot(self, table_id: str) -> tuple[int, JSON] | None:
        self._check_open()
        table = self._tables.get(table_id)
        if table is None or table.snapshot is None:
            return None
        seq, text = table.snapshot
        return seq, decode_json(text)

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        table = self._table(table_id)
        data = check_capture(table_id, seq, blob, len(table.log))
        if table.capture is None or table.capture[0] <= seq:  # an older capture never replaces a newer one
            table.capture = (seq, data)

    async def load_capture(self, table_id: str) -> tuple[int, bytes] | None:
        self._check_open()
        table = self._tables.get(table_id)
        return None if table is None else table.capture

    async def put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        text = encode_json(value)
        self._check_open()
        self._items.setdefault((table_id, kind), {})[key] = text

    async def get_item(self, table_id: str, kind: str, key: str) -> JSON | None:
        self._check_open()
        text = self._items.get((table_id, kind), {}).get(key)
        return None if text is None else decode_json(text)

    async def list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        self._check_open()
        items = self._items.get((table_id, kind), {})
        return [(key, decode_json(items[key])) for key in sorted(items)]

    async def delete_item(self, table_id: str, kind: str, key: str) -> bool:
        self._check_open()
        items = self._items.get((table_id, kind), {})
        return items.pop(key, None) is not None

    async def acquire_lease(self, table_id: str, holder: str, *, ttl: float, now: float) -> Lease | None:
        check_lease_args(holder, ttl)
        self._check_open()
        current = self._leases.get(table_id)
        if current is None:
            epoch = 1
        elif current.holder == holder and current.expires_at > now:
            epoch = current.epoch
        elif current.expires_at <= now:
            epoch = current.epoch + 1
        else:
            return None
        lease = Lease(table_id, holder, epoch, now + ttl)
        self._leases[table_id] = lease
        return lease

    async def renew_lease(
        self, table_id: str, holder: str, epoch: int, *, ttl: float, now: float
    ) -> Lease | None:
        check_lease_args(holder, ttl)
        self._check_open()
        current = self._leases.get(table_id)
        if current is None or (current.holder, current.epoch) != (holder, epoch):
            return None
        lease = Lease(table_id, holder, epoch, now + ttl)
        self._leases[table_id] = lease
        return lease

    async def release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        self._check_open()
        current = self._leases.get(table_id)
        if current is None or (current.holder, current.epoch) != (holder, epoch):
            return False
        self._leases[table_id] = Lease(table_id, holder, epoch, RELEASED)
        return True

    async def get_lease(self, table_id: str) -> Lease | None:
        self._check_open()
        return self._leases.get(table_id)
