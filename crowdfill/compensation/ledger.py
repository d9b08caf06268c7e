"""The ledger: what compensation needs from the operation log, gathered in one pass.

For every row it keeps how the row was made (inserted, or a fill of a parent row by a worker in a
column), so the worker behind each value of a final row can be found by walking its chain of
replaced rows. It also keeps when each complete key first appeared, the first row that held each
complete row value, and the vote records grouped by key. Building it is linear in the log.
Only standing votes are kept: a retract removes the vote it takes back (and would swallow a vote
it tombstoned, should one follow), as the candidate table does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import cast

from crowdfill.compensation.errors import LogMismatch
from crowdfill.model.members import LIMIT, Members, added, discarded
from crowdfill.model.operations import (
    CENTRAL_CLIENT,
    Annotate,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Upvote,
)
from crowdfill.model.schema import Schema
from crowdfill.model.values import Value, Values

Key = tuple[Value, ...]


# The ledger holds one record per row ever made and a flat sequence of the standing votes per key:
# plain tuples (no instance __dict__, which pickle would give every restored dataclass instance,
# and no class to call per record when a capture loads) keep a big table's restored ledger small
# and quick to load (docs/scale.md, "Memory").
#
# A row's record (``Ledger.rows``): an inserted row's record is its values themselves (a frozenset:
# no object of its own); a fill's is ``(values, parent, column, worker)``, ``parent`` None for a
# fill of a row the log never showed.
Made = tuple[Values, str | None, str, str]
Record = Values | Made


# A key's standing votes, in log order, as one flat sequence: worker, values, worker, values, ...
# (a million-operation table has about 850,000 of them: a record each was 64 bytes more). Read it
# with ``votes``. A tuple while few, a list past LIMIT votes so a much-voted key appends in O(1).
Votes = tuple[str | Values, ...] | list[str | Values]


class Ledger:
    def __init__(self, schema: Schema, *, strict: bool = True) -> None:
        self.schema = schema
        self.strict = strict
        self.operations = 0
        self.rows: dict[str, Record] = {}  # row id -> its record (above), in the order made
        self.key_order: dict[Key, int] = {}
        # The keys of ``key_order`` by their order: the vote records are keyed with these objects
        # (an equal key tuple per vote record and per key order entry was a copy each).
        self._keys: list[Key] = []
        self.first_row: dict[Values, str] = {}
        # Workers as ``members`` holders (crowdfill.model.members): most value sets have one.
        self.explicit_up: dict[Values, Members[str]] = {}
        # Votes per key, in log order (``Votes``; read them with ``votes``).
        self.ups: dict[Key, Votes] = {}
        self.downs: dict[Key, Votes] = {}
        self.workers: dict[str, None] = {}
        # Rows a fill replaced whose fill made no record (a second make of its new row id, which a
        # non-strict ledger skips): every other replaced row is the parent of a record.
        self._replaced_unrecorded: set[str] = set()
        self._retracted: set[tuple[str, str, Values]] = set()

    @classmethod
    def of(cls, schema: Schema, log: Iterable[Operation], *, strict: bool = True) -> Ledger:
        ledger = cls(schema, strict=strict)
        for op in log:
            ledger.record(op)
        return ledger

    # ------------------------------------------------------------------ recording
    def record(self, op: Operation) -> None:
        """Take one accepted operation, in sequence order."""
        if isinstance(op, Retract) and op.kind is None:
            # Refused before anything changes: the estimator works a refused deferred operation
            # again on its next catch-up, and must not count it twice (``Estimator.catch_up``).
            raise LogMismatch(f"a retract of row {op.row_id!r} in the log does not name the vote's sign")
        position = self.operations
        self.operations += 1
        if isinstance(op, Insert):
            self._add_row(op.row_id, op.values, op.values, position)
        elif isinstance(op, Fill):
            self._record_fill(op, position)
        elif isinstance(op, Upvote):
            self._see(op.worker)
            self._record_up(op.worker, op.values, automatic=False)
        elif isinstance(op, Downvote):
            self._see(op.worker)
            key = self._key(op.values)
            if key is not None and (op.worker, "down", op.values) not in self._retracted:
                self.downs[key] = _appended(self.downs.get(key, ()), op.worker, op.values)
        elif isinstance(op, Retract):
            self._see(op.worker)
            self._record_retract(op)
        elif isinstance(op, Annotate):
            return  # a model's annotation is no contribution: it neither earns nor moves a score
        else:  # pragma: no cover - the Operation union is closed
            raise LogMismatch(f"not an operation: {op!r}")

    def _record_fill(self, op: Fill, position: int) -> None:
        self._see(op.worker)
        parent = self.values_of(op.row_id)
        expected = None if parent is None else parent | {(op.column, op.value)}
        values = op.values or expected
        if parent is None:
            if self.strict:
                raise LogMismatch(
                    f"operation {position + 1} fills row {op.row_id!r}, which no earlier operation made"
                )
        elif self.strict and values != expected:
            raise LogMismatch(
                f"operation {position + 1} gives new row values that do not extend row {op.row_id!r}"
            )
        if values is None:  # an orphan fill that does not carry its values: only the new cell is known
            values = frozenset({(op.column, op.value)})
        record = (values, op.row_id if parent is not None else None, op.column, op.worker)
        if not self._add_row(op.new_row_id, values, record, position) and parent is not None:
            self._replaced_unrecorded.add(op.row_id)
        if op.upvote:
            self._record_up(op.worker, values, automatic=True)

    def _add_row(self, row_id: str, values: Values, record: Record, position: int) -> bool:
        """Record a new row; False (non-strict) if ``row_id`` was made before."""
        if row_id in self.rows:
            if self.strict:
                raise LogMismatch(f"operation {position + 1} makes row {row_id!r} a second time")
            return False
        self.rows[row_id] = record
        key = self.schema.key_of(values)
        if key is not None and key not in self.key_order:
            self._keys.append(key)
            self.key_order[key] = len(self.key_order)
        if self.schema.is_complete(values) and values not in self.first_row:
            self.first_row[values] = row_id
        return True

    def _record_retract(self, op: Retract) -> None:
        assert op.kind is not None  # refused in ``record``
        self._retracted.add((op.worker, op.kind, op.values))
        key = self.schema.key_of(op.values)
        if key is None:
            return
        by_key = self.ups if op.kind == "up" else self.downs
        kept = tuple(
            field
            for worker, values in votes(by_key.get(key, ()))
            if not (worker == op.worker and values == op.values)
            for field in (worker, values)
        )
        if kept:
            by_key[key] = kept if len(kept) <= 2 * LIMIT else list(kept)
        else:
            by_key.pop(key, None)
        if op.kind == "up":
            voters = self.explicit_up.get(op.values)
            if voters is not None:
                self.explicit_up[op.values] = discarded(voters, op.worker)

    def _record_up(self, worker: str, values: Values, *, automatic: bool) -> None:
        key = self._key(values)
        if key is None or (worker, "up", values) in self._retracted:
            return
        if not automatic:
            voters = self.explicit_up.get(values, ())
            if worker in voters:
                return
            self.explicit_up[values] = added(voters, worker)
        self.ups[key] = _appended(self.ups.get(key, ()), worker, values)

    def _see(self, worker: str) -> None:
        if worker != CENTRAL_CLIENT and worker not in self.workers:
            self.workers[worker] = None

    # ------------------------------------------------------------------ reading
    def ordinal(self, key: Key) -> int:
        """The order in which ``key`` first appeared (keys the log never showed come after all others)."""
        order = self.key_order.get(key)
        if order is None:
            self._keys.append(key)
            order = self.key_order[key] = len(self.key_order)
        return order

    def _key(self, values: Values) -> Key | None:
        """The key of ``values``, as the object ``key_order`` holds if it holds that key."""
        key = self.schema.key_of(values)
        if key is None:
            return None
        order = self.key_order.get(key)
        return key if order is None else self._keys[order]

    def knows(self, row_id: str) -> bool:
        return row_id in self.rows

    def values_of(self, row_id: str) -> Values | None:
        """The values of the row ``row_id`` (None: no operation of the log made it)."""
        record = self.rows.get(row_id)
        if record is None or type(record) is frozenset:
            return record
        return cast("Made", record)[0]

    @property
    def live(self) -> int:
        """How many of the rows made are not replaced (linear in the rows: read when settling)."""
        replaced = set(self._replaced_unrecorded)
        for record in self.rows.values():
            if type(record) is not frozenset:
                parent = cast("Made", record)[1]
                if parent is not None:
                    replaced.add(parent)
        return len(self.rows) - len(replaced)

    def fillers(self, row_id: str) -> dict[str, str | None]:
        """Column -> the worker who entered that value of the row (None: template or unknown)."""
        rows = self.rows
        entered: dict[str, str | None] = {column: None for column, _ in self.values_of(row_id) or ()}
        current: str | None = row_id
        while current is not None:
            record = rows[current]
            if type(record) is frozenset:
                break  # an insert: the template's or the central client's values
            _, current, column, worker = cast("Made", record)
            if column in entered and worker != CENTRAL_CLIENT:
                entered[column] = worker
        return entered


def votes(flat: Votes) -> Iterator[tuple[str, Values]]:
    """(worker, values) of each vote of a key's flat sequence (``Ledger.ups``, ``downs``), in log order."""
    fields = iter(flat)
    return cast("Iterator[tuple[str, Values]]", zip(fields, fields, strict=True))


def _appended(flat: Votes, worker: str, values: Values) -> Votes:
    if isinstance(flat, list):
        flat += (worker, values)
        return flat
    if len(flat) < 2 * LIMIT:
        return (*flat, worker, values)
    return [*flat, worker, values]
