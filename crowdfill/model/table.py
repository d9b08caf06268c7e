"""The candidate table: rows, vote records, scores, statuses and the final table (DESIGN §2).

``validate`` checks an operation against the current state and returns its canonical form;
``integrate`` applies an already-validated operation. Integration is idempotent and its result
depends only on the set of operations applied, not their order: that is what lets replicas
converge. ``apply`` is both, and a refused operation changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from crowdfill.model.errors import (
    CellAlreadyFilled,
    DuplicateRowId,
    DuplicateVote,
    EmptyRowDownvoted,
    IncompleteRowUpvoted,
    MalformedMessage,
    TableClosed,
    TemplateProtected,
    UnknownRow,
    ValueMismatch,
)
from crowdfill.model.events import (
    Event,
    GroupKey,
    GroupRescored,
    RowInserted,
    RowReplaced,
    VoteRecorded,
)
from crowdfill.model.operations import Downvote, Fill, Insert, Operation, Reweigh, Upvote
from crowdfill.model.row import Row
from crowdfill.model.schema import Schema
from crowdfill.model.scoring import DEFAULT_SCORING, Score, Scoring
from crowdfill.model.status import Status, status_of
from crowdfill.model.tally import Tally
from crowdfill.model.template import Template
from crowdfill.model.values import Values, sort_key
from crowdfill.model.weights import Weights

MAX_ROW_ID_LENGTH = 64
MAX_WORKER_LENGTH = 200

__all__ = ["CandidateTable", "GroupKey"]


class CandidateTable:
    def __init__(
        self,
        schema: Schema,
        scoring: Scoring = DEFAULT_SCORING,
        template: Template | None = None,
    ) -> None:
        self.schema = schema
        self.scoring = scoring
        self.template = template if template is not None else Template(())
        self.closed = False
        self._rows: dict[str, Row] = {}
        # Live row ids as an insertion-ordered dict: rows() lists them in arrival order without sorting.
        self._live: dict[str, None] = {}
        self._removed: set[str] = set()
        self._by_values: dict[Values, set[str]] = {}
        self._groups: dict[GroupKey, set[str]] = {}
        self._group_of: dict[str, GroupKey] = {}  # for live rows; computing a key is not free
        self._best: dict[GroupKey, Score] = {}
        self._final: dict[GroupKey, str] = {}
        self._tally = Tally()
        self._weights = Weights()
        self._order: dict[str, int] = {}

    # ------------------------------------------------------------------ reading
    def __contains__(self, row_id: object) -> bool:
        return row_id in self._live

    def __len__(self) -> int:
        return len(self._live)

    def rows(self) -> list[Row]:
        """Live rows in the order this replica added them."""
        return [self._rows[r] for r in self._live]

    def row(self, row_id: str) -> Row:
        row = self._rows.get(row_id)
        if row is None or row_id not in self._live:
            raise UnknownRow(f"row {row_id!r} is not in the table")
        return row

    def all_rows(self) -> list[Row]:
        """Every row ever added, live or replaced, in the order this replica added them."""
        return list(self._rows.values())  # dicts keep insertion order

    def removed_ids(self) -> frozenset[str]:
        """Ids of rows that a fill replaced (including ones this replica has not seen added)."""
        return frozenset(self._removed)

    def known(self, row_id: str) -> bool:
        """Whether the row exists or existed (a replaced row is still known)."""
        return row_id in self._rows

    def up(self, row_id: str) -> int:
        return self._tally.up(self.row(row_id).values)

    def down(self, row_id: str) -> int:
        return self._tally.down(self.row(row_id).values)

    def upvoters(self, row_id: str) -> frozenset[str]:
        return self._tally.upvoters(self.row(row_id).values)

    def downvoters(self, row_id: str) -> frozenset[str]:
        return self._tally.downvoters(self.row(row_id).values)

    def score(self, row_id: str) -> Score:
        return self.scoring.score(*self._counts(self.row(row_id).values))

    def weight(self, worker: str) -> float:
        """The worker's vote weight under ``reputation`` scoring (1 until a reweigh says otherwise)."""
        return self._weights.weight(worker)

    def reweighs(self) -> list[Reweigh]:
        """The reweigh in force for every worker that has one, by worker."""
        return self._weights.reweighs()

    def group_of(self, row_id: str) -> GroupKey:
        self.row(row_id)  # raises for a row that is not live
        return self._group_of[row_id]

    def group_rows(self, group: GroupKey) -> list[Row]:
        return [self._rows[r] for r in sorted(self._groups.get(group, ()), key=self._order.__getitem__)]

    def groups(self) -> Iterator[GroupKey]:
        return iter(list(self._groups))

    def status(self, row_id: str) -> Status:
        row = self.row(row_id)
        group = self._group_of[row_id]
        return status_of(self.score(row_id), self._best[group], self.schema.is_complete(row.values))

    def probable_rows(self, group: GroupKey) -> list[Row]:
        return [row for row in self.group_rows(group) if self.status(row.row_id).probable]

    def final_row(self, group: GroupKey) -> Row | None:
        row_id = self._final.get(group)
        return self._rows[row_id] if row_id is not None else None

    def final_table(self) -> list[Row]:
        """One complete row of positive, group-highest score per key group (DESIGN §2).

        Ties break on the row values' canonical order, then the row id: the same on every replica.
        """
        rows = self._rows
        return [rows[r] for r in sorted(self._final.values(), key=self._order.__getitem__)]

    def worker_counted(self, worker: str, values: Values) -> bool:
        return self._tally.counts_worker(worker, values)

    def vote_records(self) -> list[tuple[str, str, Values]]:
        return sorted(self._tally.records(), key=lambda rec: (rec[0], rec[1], sort_key(rec[2])))

    def fingerprint(self) -> tuple[object, ...]:
        """Everything that must agree between converged replicas, in a comparable form.

        Live rows with their values and counts, the ids of replaced rows, the vote records, the
        final table, and (last) the values of the replaced rows this replica has seen.
        """
        rows = sorted((r, sort_key(self._rows[r].values), self.up(r), self.down(r)) for r in self._live)
        removed = sorted(self._removed | (self._rows.keys() - self._live.keys()))
        votes = [(w, k, sort_key(v)) for w, k, v in self.vote_records()]
        final = sorted(row.row_id for row in self.final_table())
        replaced = sorted((r, sort_key(row.values)) for r, row in self._rows.items() if r not in self._live)
        weights = tuple(self._weights.reweighs())
        return (tuple(rows), tuple(removed), tuple(votes), tuple(final), tuple(replaced), weights)

    # ------------------------------------------------------------------ changing
    def apply(self, operation: Operation) -> list[Event]:
        return self.integrate(self.validate(operation))

    def validate(self, operation: Operation) -> Operation:
        """Return the canonical form of ``operation`` or raise a domain error; changes nothing."""
        if self.closed:
            raise TableClosed("the table is complete and accepts no more operations")
        _check_identifier("worker", operation.worker, MAX_WORKER_LENGTH)
        _check_identifier("row_id", operation.row_id, MAX_ROW_ID_LENGTH)
        if isinstance(operation, Insert):
            return self._validate_insert(operation)
        if isinstance(operation, Fill):
            return self._validate_fill(operation)
        if isinstance(operation, Upvote):
            return self._validate_upvote(operation)
        return self._validate_downvote(operation)

    def integrate(self, operation: Operation | Reweigh) -> list[Event]:
        """Apply an operation the server accepted. Idempotent; order of arrival does not matter."""
        if isinstance(operation, Reweigh):
            return self._integrate_reweigh(operation)
        if isinstance(operation, Insert):
            return self._integrate_insert(operation)
        if isinstance(operation, Fill):
            return self._integrate_fill(operation)
        kind = "up" if isinstance(operation, Upvote) else "down"
        return self._integrate_vote(operation, kind)

    def close(self) -> None:
        self.closed = True

    def tombstone(self, row_id: str) -> None:
        """Record that ``row_id`` was replaced, before it is added (used when restoring a snapshot)."""
        if row_id in self._live:
            self._rescore(self._remove_row(row_id))
        self._removed.add(row_id)

    # ------------------------------------------------------------------ validation
    def _check_new_id(self, row_id: str) -> None:
        _check_identifier("new row id", row_id, MAX_ROW_ID_LENGTH)
        if row_id in self._rows or row_id in self._removed:
            raise DuplicateRowId(f"row id {row_id!r} is already taken; pick a fresh id")

    def _validate_insert(self, op: Insert) -> Insert:
        self._check_new_id(op.row_id)
        values = self.schema.normalise_values(dict(op.values))
        return Insert(op.row_id, values, op.worker)

    def _validate_fill(self, op: Fill) -> Fill:
        old = self._rows.get(op.row_id)
        if old is None:
            raise UnknownRow(f"row {op.row_id!r} is not in the table")
        self._check_new_id(op.new_row_id)
        column = self.schema.column(op.column)
        present = dict(old.values)
        if column.name in present:
            raise CellAlreadyFilled(
                f"column {column.name!r} of row {op.row_id!r} is already filled with {present[column.name]!r}"
            )
        value = column.normalise(op.value)
        values = old.values | {(column.name, value)}
        if op.values and self.schema.normalise_values(dict(op.values)) != values:
            raise ValueMismatch(
                f"the new row's values must be row {op.row_id!r}'s values plus {column.name}={value!r}"
            )
        upvote = self.schema.is_complete(values) and not self._tally.counts_worker(op.worker, values)
        return Fill(op.worker, op.row_id, op.new_row_id, column.name, value, values, upvote)

    def _validate_upvote(self, op: Upvote) -> Upvote:
        row = self.row(op.row_id)
        self._check_same_values(op.values, row)
        if not self.schema.is_complete(row.values):
            missing = [n for n in self.schema.names if n not in dict(row.values)]
            raise IncompleteRowUpvoted(
                f"row {op.row_id!r} is incomplete (missing {missing}); only complete rows can be upvoted"
            )
        if self._tally.counts_worker(op.worker, row.values):
            raise DuplicateVote(f"you have already voted on row {op.row_id!r} (or on a part of it)")
        return Upvote(op.worker, row.row_id, row.values)

    def _validate_downvote(self, op: Downvote) -> Downvote:
        row = self._rows.get(op.row_id)
        if row is None:
            raise UnknownRow(f"row {op.row_id!r} is not in the table")
        self._check_same_values(op.values, row)
        if not row.values:
            raise EmptyRowDownvoted(f"row {op.row_id!r} is empty; only non-empty rows can be downvoted")
        if self.template.protects(row.values):
            raise TemplateProtected(
                f"row {op.row_id!r} holds only values the requester's template asks for; "
                "fill it instead of downvoting it"
            )
        for superset in self._tally.tracked_supersets(row.values):
            if self._tally.counts_worker(op.worker, superset):
                raise DuplicateVote(
                    f"you have already voted on row {op.row_id!r} or on a row containing its values"
                )
        return Downvote(op.worker, row.row_id, row.values)

    def _check_same_values(self, values: Values, row: Row) -> None:
        if values and values != row.values:
            raise ValueMismatch(f"the vote's values do not match row {row.row_id!r}")

    # ------------------------------------------------------------------ integration
    def _integrate_insert(self, op: Insert) -> list[Event]:
        if op.row_id in self._rows:
            return []
        row = Row(op.row_id, op.values)
        touched = self._add_row(row)
        return [RowInserted(row), *self._rescore(touched)]

    def _integrate_fill(self, op: Fill) -> list[Event]:
        if op.new_row_id in self._rows:
            return []
        row = Row(op.new_row_id, op.values)
        touched = self._add_row(row)
        removed = op.row_id in self._live
        if removed:
            touched |= self._remove_row(op.row_id)
        else:
            self._removed.add(op.row_id)
        events: list[Event] = [RowReplaced(op.row_id, row, removed)]
        if op.upvote and self._tally.record_up(op.worker, op.values):
            events.append(VoteRecorded(op.worker, "up", op.values, op.new_row_id))
            touched |= self._groups_holding(op.values)
        return events + self._rescore(touched)

    def _integrate_vote(self, op: Upvote | Downvote, kind: str) -> list[Event]:
        if kind == "up":
            if not self._tally.record_up(op.worker, op.values):
                return []
            touched = self._groups_holding(op.values)
            event = VoteRecorded(op.worker, "up", op.values, op.row_id)
        else:
            grown = self._tally.record_down(op.worker, op.values)
            if grown is None:
                return []
            touched = set().union(*(self._groups_holding(v) for v in grown)) if grown else set()
            event = VoteRecorded(op.worker, "down", op.values, op.row_id)
        return [event, *self._rescore(touched)]

    def _integrate_reweigh(self, op: Reweigh) -> list[Event]:
        if not self._weights.apply(op) or self.scoring.family != "reputation":
            return []
        # Reweighs are rare (the server sends one when a weight moves by a step), so rescoring every
        # group is simpler than finding the ones this worker counts in, and as correct.
        return self._rescore(list(self._groups))

    def _counts(self, values: Values) -> tuple[Score, Score]:
        """(u, d) as the scoring reads them: counts of voters, or sums of their weights."""
        tally = self._tally
        if self.scoring.family == "reputation":
            weights = self._weights
            return weights.total(tally.upvoters(values)), weights.total(tally.downvoters(values))
        return tally.up(values), tally.down(values)

    def _add_row(self, row: Row) -> set[GroupKey]:
        self._rows[row.row_id] = row
        self._order[row.row_id] = len(self._order)
        if row.row_id in self._removed:
            return set()
        self._live[row.row_id] = None
        holders = self._by_values.setdefault(row.values, set())
        if not holders:
            self._tally.track(row.values)
        holders.add(row.row_id)
        group = self._group_key(row)
        self._group_of[row.row_id] = group
        self._groups.setdefault(group, set()).add(row.row_id)
        return {group}

    def _remove_row(self, row_id: str) -> set[GroupKey]:
        row = self._rows[row_id]
        self._live.pop(row_id, None)
        self._removed.add(row_id)
        holders = self._by_values[row.values]
        holders.discard(row_id)
        if not holders:
            del self._by_values[row.values]
            self._tally.untrack(row.values)
        group = self._group_of.pop(row_id)
        members = self._groups[group]
        members.discard(row_id)
        if not members:
            del self._groups[group]
        return {group}

    def _groups_holding(self, values: Values) -> set[GroupKey]:
        group_of = self._group_of
        return {group_of[r] for r in self._by_values.get(values, ())}

    def _group_key(self, row: Row) -> GroupKey:
        key = self.schema.key_of(row.values)
        if key is None:
            return ("row", row.row_id)
        return ("key", key)

    def _rescore(self, groups: Iterable[GroupKey]) -> list[Event]:
        events: list[Event] = []
        for group in sorted(groups, key=repr):
            members = self._groups.get(group)
            if not members:
                self._best.pop(group, None)
                self._final.pop(group, None)
            else:
                self._rescore_group(group, members)
            events.append(GroupRescored(group))
        return events

    def _rescore_group(self, group: GroupKey, members: set[str]) -> None:
        scoring = self.scoring
        if len(members) == 1:
            # Most groups hold one row (every row with an incomplete key is its own group).
            (row_id,) = members
            values = self._rows[row_id].values
            score = scoring.score(*self._counts(values))
            self._best[group] = score
            if score > 0 and self.schema.is_complete(values):
                self._final[group] = row_id
            else:
                self._final.pop(group, None)
            return
        # Rows with identical values share their counts, so score each distinct value set once.
        holders: dict[Values, list[str]] = {}
        for row_id in members:
            holders.setdefault(self._rows[row_id].values, []).append(row_id)
        scores = {values: scoring.score(*self._counts(values)) for values in holders}
        best = max(scores.values())
        self._best[group] = best
        if best <= 0:
            self._final.pop(group, None)
            return
        winners = [v for v, score in scores.items() if score == best and self.schema.is_complete(v)]
        if not winners:
            self._final.pop(group, None)
            return
        chosen = min(winners, key=sort_key) if len(winners) > 1 else winners[0]
        self._final[group] = min(holders[chosen])


def _check_identifier(name: str, value: object, limit: int) -> None:
    # Ids come from clients; a non-string would otherwise fail later as a TypeError, not a clear error.
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedMessage(f"{name} must be a string of 1 to {limit} characters, got {value!r}")
