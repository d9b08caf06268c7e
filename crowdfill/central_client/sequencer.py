"""One operation at a time: the exact order in which a table's log is made, and replayed.

The server (``TableOwner``) and every replay of a stored log (recovery, ``crowdfill audit``) run
operations through a ``Sequencer``, so "the table completes at seq s" means the same thing live and
replayed: s is the first operation (a worker's, or one of the central client's inserts) after which
the final table satisfies the template. The inserts an operation calls for are sequenced right after
it, one at a time, and satisfaction is checked after each: that makes "replay the log one operation
at a time" well defined whatever batches the server happened to take the operations in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from sys import intern
from typing import TypeGuard

from crowdfill.central_client.client import CentralClient
from crowdfill.model import (
    CENTRAL_CLIENT,
    CandidateTable,
    CrowdFillError,
    Downvote,
    Insert,
    Retract,
    Reweigh,
    Sequenced,
    Upvote,
)
from crowdfill.model.errors import TableClosed, UnknownRow


class Sequencer:
    """A table and its central client, stepped one operation at a time.

    ``apply`` validates and integrates one operation and lets the central client observe it; the
    inserts it calls for wait in ``planned`` until the caller applies them (``next_insert``), which
    the server does right away, before the next worker operation.
    """

    def __init__(self, table: CandidateTable, central: CentralClient) -> None:
        self.table = table
        self.central = central
        self._planned: deque[Insert] = deque()

    def start(self) -> None:
        """Rebuild the central client from the table (at launch, after recovery); plan what it needs now."""
        self._planned = deque(self.central.start())

    def apply(self, op: Sequenced) -> Sequenced:
        """Validate and integrate ``op`` (CrowdFillError if refused: nothing changes); return it canonical.

        A ``Reweigh`` (the server's, already checked by its emitter) is integrated as it is: it can
        rescore rows, so the central client observes what it changed like any operation.
        """
        canonical = self.admit(op)
        self.settle(canonical)
        return canonical

    def admit(self, op: Sequenced) -> Sequenced:
        """The first half of ``apply``: validate ``op`` (CrowdFillError if refused) and return it
        canonical, changing nothing. ``settle`` must follow before anything else is admitted.

        The server forwards an admitted operation before it settles it, so the others see it
        without waiting for the integration and the central client (docs/benchmarks.md)."""
        if isinstance(op, Reweigh):
            if self.table.closed:
                raise TableClosed("the table is complete and accepts no more operations")
            return op
        return self.table.validate(op)

    def settle(self, canonical: Sequenced) -> None:
        """The second half of ``apply``: integrate an admitted operation, and let the central
        client observe it (the inserts it calls for wait in ``planned``)."""
        self._planned.extend(self.central.observe(self.table.integrate(canonical)))

    def next_insert(self) -> Insert | None:
        """The next insert the central client asked for, or None when it needs nothing more now."""
        return self._planned.popleft() if self._planned else None

    @property
    def planned(self) -> tuple[Insert, ...]:
        return tuple(self._planned)

    def discard_planned(self) -> None:
        """Forget the planned inserts (the table completed, or a replay takes its inserts from the log)."""
        self._planned.clear()

    @property
    def satisfied(self) -> bool:
        return self.central.satisfied


class LoggedIds:
    """Row ids for a replay's central client, taken from the central client's inserts in the log.

    The live server draws random row ids; a replay hands its central client the ids the log shows,
    in log order, so the inserts it plans can be compared with the logged ones exactly.
    """

    def __init__(self, row_ids: Sequence[str]) -> None:
        self._row_ids = list(row_ids)
        self._next = 0
        self._spare = 0

    @classmethod
    def of(cls, operations: Iterable[Sequenced]) -> LoggedIds:
        return cls([op.row_id for op in operations if planned_insert(op)])

    def __call__(self) -> str:
        if self._next < len(self._row_ids):
            row_id = self._row_ids[self._next]
        else:
            # More inserts planned than the log holds: an id no logged row has, so the
            # comparison with the log fails instead of matching by accident.
            self._spare += 1
            row_id = f"replay-unlogged-{self._spare}"
        self._next += 1
        return row_id

    def rewind(self, consumed: int) -> None:
        """After a restart of the central client: its next id is the log's ``consumed``-th central insert."""
        self._next = consumed


@dataclass(frozen=True)
class Replayed:
    """What replaying a log did.

    ``completion_seq`` is the first seq after which the template is satisfied (``base_seq`` when it
    already was before the first replayed operation), None if it never is. Operations after it (or
    after the table was closed) are not integrated (``ignored``). ``divergences`` say where the log
    departs from what the server would have sequenced; ``applied`` holds the integrated operations
    in canonical form.
    """

    applied: tuple[tuple[int, Sequenced], ...]
    completion_seq: int | None
    ignored: tuple[int, ...]
    divergences: tuple[str, ...]


def replay(
    sequencer: Sequencer,
    entries: Sequence[tuple[int, Sequenced]],
    *,
    base_seq: int = 0,
    start: bool = True,
    on_applied: Callable[[int, Sequenced], None] | None = None,
    trusted: bool = False,
) -> Replayed:
    """Replay logged ``(seq, operation)`` entries one at a time into ``sequencer``'s table.

    The sequencer's table holds the state after ``base_seq`` (a snapshot, or empty for 0). With
    ``start`` its central client is rebuilt from that table first, as a restarted server does;
    without it the sequencer is taken as the live server left it after ``base_seq`` (a restored
    state capture), planned inserts included. Every entry is validated again; one the model refuses
    is reported and skipped. ``on_applied(seq, canonical)`` is called right after each operation is
    integrated (before the next one), for bookkeeping that reads the table as of that operation.

    While it replays, the central client draws its row ids from the central inserts the log holds
    (``LoggedIds``), so each logged insert must be the one it plans next and no planned insert may
    be missing before a worker's operation; a departure is only reported if a restarted central
    client would not explain it either. Because its plans are the logged inserts, each is settled by
    the insert that follows it and nothing piles up pending: the replay is linear in the log.

    With ``trusted`` the entries are taken as the canonical operations this server's own sequencer
    accepted and logged, applied to the very state it applied them to (a state capture's log tail):
    its votes and retracts are integrated without being validated again (validation would return
    them unchanged, sharing the table's objects, which ``_integrated`` does; at a million
    operations the checks were a tenth of the tail's cost). The central client still observes
    every operation, and its plans are still checked.

    Afterwards the central client draws its own ids again; if it is left with plans (the log ends
    before inserts it calls for, or departs from its plans) it is rebuilt from the table, so its
    planned inserts are the seeds a restarted server persists first.
    """
    applied: list[tuple[int, Sequenced]] = []
    ignored: list[int] = []
    divergences: list[str] = []
    central = sequencer.central
    ids = LoggedIds.of(op for _, op in entries)
    with central.drawing_row_ids(ids):
        if start:
            sequencer.start()
        completion = base_seq if sequencer.satisfied else None
        consumed = 0  # central-client inserts seen so far
        for seq, op in entries:
            if completion is not None or sequencer.table.closed:
                ignored.append(seq)
                continue
            divergence = _check_inserts(sequencer, ids, consumed, seq, op)
            if divergence is not None:
                divergences.append(divergence)
            if planned_insert(op):
                consumed += 1
            try:
                canonical = _integrated(sequencer, op) if trusted else sequencer.apply(op)
            except CrowdFillError as error:
                divergences.append(f"seq {seq}: the model refuses it ({error.code}: {error.message})")
                continue
            applied.append((seq, canonical))
            if on_applied is not None:
                on_applied(seq, canonical)
            if sequencer.satisfied:
                completion = seq
        left_over = bool(sequencer.planned or central.pending_inserts())
    if left_over:
        sequencer.discard_planned()
        sequencer.start()  # with the central client's own ids: the seeds of the next batch
    if ignored:
        span = f"seqs {ignored[0]}..{ignored[-1]}"
        after = (
            f"the table completed at seq {completion}" if completion is not None else "the table was closed"
        )
        divergences.append(f"{span}: accepted after {after}")
    return Replayed(tuple(applied), completion, tuple(ignored), tuple(divergences))


def _integrated(sequencer: Sequencer, op: Sequenced) -> Sequenced:
    """``sequencer.apply(op)`` for an operation it already validated once (see ``replay``).

    A vote or retract on a live row is integrated as the canonical operation validating it gives:
    the table's own row id and values objects and the interned worker (so the state shares them as
    it would), without the checks (a downvote's are the costly ones: every tracked superset of the
    row's values). Fills, inserts, annotations, reweighs and votes on replaced rows go through
    ``apply``: validating them makes the new row's shared values.
    """
    if isinstance(op, Upvote | Downvote | Retract):
        table = sequencer.table
        try:
            row = table.row(op.row_id)
        except UnknownRow:
            return sequencer.apply(op)
        if op.values != row.values:
            return sequencer.apply(op)
        worker = intern(op.worker)
        canonical: Sequenced
        if isinstance(op, Upvote):
            canonical = Upvote(worker, row.row_id, row.values)
        elif isinstance(op, Downvote):
            canonical = Downvote(worker, row.row_id, row.values)
        elif op.kind is not None:
            canonical = Retract(worker, row.row_id, row.values, op.kind)
        else:
            return sequencer.apply(op)
        sequencer._planned.extend(sequencer.central.observe(table.integrate(canonical)))
        return canonical
    return sequencer.apply(op)


def _check_inserts(
    sequencer: Sequencer, ids: LoggedIds, consumed: int, seq: int, op: Sequenced
) -> str | None:
    """Compare the next logged operation with the central client's plan; None if they agree."""

    def agrees() -> bool:
        if planned_insert(op):
            planned = sequencer.planned
            if planned and planned[0] == op:
                sequencer.next_insert()
                return True
            return False
        return not sequencer.planned

    if agrees():
        return None
    ids.rewind(consumed)  # as a restarted server would, with the ids the log shows next
    sequencer.start()
    if agrees():
        return None
    if planned_insert(op):
        sequencer.discard_planned()
        return f"seq {seq}: the central client would not insert row {op.row_id!r} here"
    missing = len(sequencer.planned)
    sequencer.discard_planned()
    return f"seq {seq}: {missing} insert(s) of the central client are missing before this operation"


def planned_insert(op: Sequenced) -> TypeGuard[Insert]:
    """Whether ``op`` is one of the central client's template inserts (gold rows are the server's
    own inserts, at launch: no central client plans them)."""
    return isinstance(op, Insert) and op.worker == CENTRAL_CLIENT and not op.gold
