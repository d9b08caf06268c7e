"""The storage port: tables, their durable operation logs, snapshots and small keyed records.

Operations are stored in their wire form (``crowdfill.model.codec``), so adapters know nothing of
the model's classes. Every adapter passes the same contract suite (``tests/store/``).

Behaviour every adapter shares (the contract suite checks it):
- JSON payloads (definitions, operations, snapshot states, item values) read back equal to what was
  written, as after a ``json`` round trip: tuples come back as lists, NaN and infinities are refused
  with ``ValueError`` and non-JSON values with ``TypeError``.
- Writes that need an existing table (``update_table``, ``append``, ``save_snapshot``) raise
  ``UnknownTable`` for a missing one. Reads of a missing table return nothing (``None``, ``[]``, 0).
  Items are keyed by ``table_id`` as a plain namespace: it need not name a stored table.
- ``list_tables`` orders by ``created_at`` and then ``table_id``; ``list_items`` by key (code point
  order). ``append`` of an empty batch does nothing. ``save_snapshot`` needs 0 <= seq <= last_seq
  (``StoreConflict`` otherwise) and replaces the stored snapshot unless that one has a higher seq
  (then the call does nothing: a deposed or slow writer never undoes a newer snapshot).
- ``save_capture`` keeps one opaque blob per table (the owner's derived state after ``seq``, see
  docs/scale.md) under the same seq rule as ``save_snapshot``; it replaces the previous capture
  atomically, so a crash while writing leaves the previous one readable, unless the stored one has
  a higher seq (then the call does nothing: a late writer never undoes a newer capture).
  Non-bytes: ``TypeError``.
- A method called before ``open`` (or after ``close``) raises ``StoreError``.

Leases (one sequencer per table across processes; see docs/deploy.md):
- A table's lease names one holder, an ``epoch`` and an expiry. ``acquire_lease`` takes a lease
  that is free or expired (the epoch goes up by one) or extends the caller's own live one (same
  epoch); it returns None while another holder's lease is live. ``renew_lease`` extends a lease the
  caller still holds at that epoch (even if expired, as long as nobody took it over).
- Fencing: ``append(..., epoch=e)`` raises ``StaleEpoch`` unless ``e`` is the table's current
  epoch, checked atomically with the write, so a paused or partitioned former owner can never
  append once another holder took the lease. Safety rests on the epoch alone; the caller's clock
  (``now``) only decides when a lease may be taken over, never whether a write is accepted.
- Leases are a namespace of their own: a lease needs no stored table. ``append`` without an epoch
  is not fenced (the single-process server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

JSON = dict[str, Any]


class StoreError(Exception):
    """A storage failure the server reports as unavailable, not as the caller's fault."""


class StoreConflict(StoreError):
    """A write that contradicts what is stored (an existing table id, a sequence gap or repeat)."""


class UnknownTable(StoreError):
    """No table with this id is stored."""


class StaleEpoch(StoreConflict):
    """An append fenced by a lease epoch that is no longer the table's current one."""


@dataclass(frozen=True)
class LogRecord:
    seq: int
    operation: JSON
    at: float


@dataclass(frozen=True)
class Lease:
    """Who sequences a table, at which fencing epoch, until when (seconds, the caller's clock)."""

    table_id: str
    holder: str
    epoch: int
    expires_at: float


@dataclass(frozen=True)
class TableRecord:
    table_id: str
    definition: JSON
    status: str
    created_at: float
    updated_at: float


class Store(Protocol):
    async def open(self) -> None:
        """Connect and create what is missing (files, tables, indexes). Idempotent."""

    async def close(self) -> None: ...

    async def create_table(self, record: TableRecord) -> None:
        """Store a new table; StoreConflict if the id exists."""

    async def update_table(
        self, table_id: str, *, definition: JSON | None = None, status: str | None = None, at: float
    ) -> TableRecord:
        """Replace the definition and/or status; UnknownTable if missing."""

    async def get_table(self, table_id: str) -> TableRecord | None: ...

    async def list_tables(self) -> list[TableRecord]:
        """Every table, oldest first."""

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        """Append a batch atomically and durably: all or nothing, on disk when this returns.

        Sequence numbers must continue the log exactly (last_seq + 1, + 2, ...): StoreConflict if not.
        With ``epoch``, StaleEpoch unless it is the table's current lease epoch.
        """

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        """Records with seq > after_seq in order, at most ``limit``."""

    async def last_seq(self, table_id: str) -> int:
        """The highest stored seq, 0 for an empty log."""

    async def save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        """Keep ``state`` as the table's state after ``seq`` (replacing one of a lower or equal seq; a
        no-op when the stored snapshot's seq is higher)."""

    async def load_snapshot(self, table_id: str) -> tuple[int, JSON] | None: ...

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        """Keep ``blob`` as the table's derived-state capture after ``seq`` (replacing one of a lower or
        equal seq; a no-op when the stored capture's seq is higher)."""

    async def load_capture(self, table_id: str) -> tuple[int, bytes] | None: ...

    async def put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        """Upsert a small keyed record (worker links, blocks, HIT ids, payments, ...)."""

    async def get_item(self, table_id: str, kind: str, key: str) -> JSON | None: ...

    async def list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        """Every record of ``kind`` for the table, ordered by key."""

    async def delete_item(self, table_id: str, kind: str, key: str) -> bool:
        """Remove a record; whether it existed."""

    # -- leases (see the module docstring) -------------------------------------------------------

    async def acquire_lease(self, table_id: str, holder: str, *, ttl: float, now: float) -> Lease | None:
        """Take a free or expired lease (epoch + 1) or extend one's own; None while another holds it."""

    async def renew_lease(
        self, table_id: str, holder: str, epoch: int, *, ttl: float, now: float
    ) -> Lease | None:
        """Extend the lease to now + ttl if ``holder`` still holds it at ``epoch``; None if it was lost."""

    async def release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        """Let another holder take the lease at once (it stays fenced at ``epoch``); whether it was held."""

    async def get_lease(self, table_id: str) -> Lease | None: ...
