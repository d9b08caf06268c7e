"""The candidate table: rows, vote records, scores, statuses and the final table (DESIGN §2).

``validate`` checks an operation against the current state and returns its canonical form;
``integrate`` applies an already-validated operation. Integration is idempotent and its result
depends only on the set of operations applied, not their order: that is what lets replicas
converge. ``apply`` is both, and a refused operation changes nothing.

Final table. Each key group's winners are its distinct complete value sets of the group's highest
score, when that score is positive; a single winner is the group's final row. Tied winners are
broken toward the template: when they all serve the same template rows the canonically first wins
(``values.sort_key``, then the smallest row id); when they serve different ones the group is
ambiguous, and a canonical maximum matching of template rows to groups decides, so the final table
satisfies the template whenever some choice of tied winners would (``crowdfill.model.ties``). The
choice reads only the state, so it is the same on every replica and after a snapshot is restored;
while no group is ambiguous nothing is matched, and when a choice moves a group that the operation
did not rescore, that group is reported rescored too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from sys import intern
from typing import cast

from crowdfill.model.errors import (
    CellAlreadyFilled,
    DuplicateRowId,
    DuplicateVote,
    EmptyRowDownvoted,
    FillerNotCounted,
    IncompleteRowUpvoted,
    InvalidAnnotation,
    MalformedMessage,
    NoVoteToRetract,
    RetractedVoteRecast,
    TableClosed,
    TemplateProtected,
    UnknownRow,
    ValueMismatch,
)
from crowdfill.model.events import (
    Event,
    GroupKey,
    GroupRescored,
    RowAnnotated,
    RowInserted,
    RowReplaced,
    VoteRecorded,
    VoteRetracted,
)
from crowdfill.model.members import Members, added, discarded
from crowdfill.model.operations import (
    Annotate,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Reweigh,
    Upvote,
    annotation_rank,
)
from crowdfill.model.row import Row
from crowdfill.model.schema import Schema
from crowdfill.model.scoring import DEFAULT_SCORING, Score, Scoring
from crowdfill.model.status import Status, status_of
from crowdfill.model.tally import Tally
from crowdfill.model.template import Template
from crowdfill.model.ties import Tie, TieBreaker
from crowdfill.model.values import EMPTY, Item, Value, Values, sort_key
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
        # Live row id -> its order (how many rows this replica added before it), in that order:
        # rows() lists them in arrival order without sorting, and a group's or the final table's
        # rows sort by it. Only live rows are ever sorted, so replaced rows keep no order entry
        # (one dict entry and one int less per row ever added: docs/scale.md, "Memory").
        self._live: dict[str, int] = {}
        # Ids of rows a fill replaced before this replica saw them added. A replaced row it has
        # seen is one of ``_rows`` that is not ``_live``: keeping only these few is what lets a big
        # table hold no second entry per replaced row (docs/scale.md, "Memory").
        self._tombstones: set[str] = set()
        # Row ids as ``members`` holders: most value sets and groups hold one row.
        self._by_values: dict[Values, Members[str]] = {}
        self._groups: dict[GroupKey, Members[str]] = {}
        self._group_of: dict[str, GroupKey] = {}  # for live rows; computing a key is not free
        self._best: dict[GroupKey, Score] = {}
        self._final: dict[GroupKey, str] = {}
        self._ties: dict[GroupKey, Tie] = {}  # ambiguous groups (crowdfill.model.ties)
        self._tie_breaker: TieBreaker | None = None
        self._tally = Tally()
        self._weights = Weights()
        # (values, kind, column) -> the annotation kept for it (see Annotate); never touches scores.
        self._annotations: dict[tuple[Values, str, str], Annotate] = {}
        # Gold rows (Insert.gold): live and votable, but in no key group (so never final, never
        # serving a template row, never moving another row's status).
        self._gold: set[str] = set()
        # One object per distinct (column, value) item of the rows validated here, so that a big
        # table's rows share their items (and value strings) instead of each holding copies
        # (docs/scale.md, "Memory"). Keyed with the value's type: True == 1 == 1.0 as items.
        self._items: dict[tuple[Item, type], Item] = {}

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, object]:
        # Every row ever added, as two columns (ids, values) rather than a pickled Row each (an
        # argument tuple, a constructor call and two memo entries per row): a big table's state
        # capture loads faster so (docs/scale.md, "The capture in two parts"). Nothing else holds
        # the Row objects, so rebuilding them loses no sharing.
        state = dict(self.__dict__)
        rows = cast("dict[str, Row]", state.pop("_rows"))
        state["_row_columns"] = (list(rows), [row.values for row in rows.values()])
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        ids, values = cast("tuple[list[str], list[Values]]", state.pop("_row_columns"))
        state["_rows"] = dict(zip(ids, map(Row, ids, values), strict=True))
        self.__dict__.update(state)

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
        return frozenset(self._tombstones | (self._rows.keys() - self._live.keys()))

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

    def score_and_disowned(self, row_id: str) -> tuple[Score, bool]:
        """``score(row_id)`` and ``disowned(row_id)`` together, the row's counts read once."""
        values = self.row(row_id).values
        up, down = self._counts(values)
        return self.scoring.score(up, down), not self.schema.is_complete(values) and down > up

    def scored_values(self, group: GroupKey) -> list[tuple[Score, Values, bool]]:
        """``(score, values, disowned)`` for each distinct value set among the group's live rows
        (in no particular order): what ``score_and_disowned`` says of each of its rows, read once
        per value set (the rows of a big table's key group mostly share their values)."""
        rows = self._rows
        seen: dict[Values, tuple[Score, Values, bool]] = {}
        for row_id in self._groups.get(group, ()):
            values = rows[row_id].values
            if values not in seen:
                up, down = self._counts(values)
                seen[values] = (
                    self.scoring.score(up, down),
                    values,
                    not self.schema.is_complete(values) and down > up,
                )
        return list(seen.values())

    def weight(self, worker: str) -> float:
        """The worker's vote weight under ``reputation`` scoring (1 until a reweigh says otherwise)."""
        return self._weights.weight(worker)

    def reweighs(self) -> list[Reweigh]:
        """The reweigh in force for every worker that has one, by worker."""
        return self._weights.reweighs()

    def excluded(self, worker: str) -> bool:
        """Did the requester exclude ``worker`` (the reweigh in force says so)?"""
        return self._weights.excluded(worker)

    def excluded_workers(self) -> frozenset[str]:
        return frozenset(op.worker for op in self._weights.reweighs() if op.excluded)

    def group_of(self, row_id: str) -> GroupKey:
        self.row(row_id)  # raises for a row that is not live
        if row_id in self._gold:
            return ("row", row_id)  # a gold row stands alone: it is in no group of the table
        return self._group_of[row_id]

    def is_gold(self, row_id: str) -> bool:
        return row_id in self._gold

    def gold_ids(self) -> frozenset[str]:
        """Ids of the gold rows this replica integrated (Insert.gold)."""
        return frozenset(self._gold)

    def group_rows(self, group: GroupKey) -> list[Row]:
        return [self._rows[r] for r in sorted(self._groups.get(group, ()), key=self._live.__getitem__)]

    def groups(self) -> Iterator[GroupKey]:
        return iter(list(self._groups))

    def status(self, row_id: str) -> Status:
        row = self.row(row_id)
        if row_id in self._gold:
            score = self.score(row_id)
            return status_of(score, score, self.schema.is_complete(row.values))
        group = self._group_of[row_id]
        return status_of(self.score(row_id), self._best[group], self.schema.is_complete(row.values))

    def disowned(self, row_id: str) -> bool:
        """Whether the voters took this incomplete row for wrong: its counted downvotes outweigh its
        upvotes, though maybe not up to the gate, so it may still be probable at score 0.

        Nobody who believes it will fill it, and whoever downvoted a complete row containing it may
        not downvote it too (DuplicateVote), so under a strict gate it can hold its template row
        forever; the central client serves the template row with a fresh row instead.
        """
        values = self.row(row_id).values
        if self.schema.is_complete(values):
            # A complete row can still be voted down to the gate. Treating a contested complete row
            # (score 0, min_votes + 2 counted voters) as disowned too lowered precision on
            # tests/simulation's small hostile crowd (docs/quality.md, "Disowned rows").
            return False
        up, down = self._counts(values)
        return down > up

    def probable_rows(self, group: GroupKey) -> list[Row]:
        return [row for row in self.group_rows(group) if self.status(row.row_id).probable]

    def final_row(self, group: GroupKey) -> Row | None:
        row_id = self._final.get(group)
        return self._rows[row_id] if row_id is not None else None

    def final_table(self) -> list[Row]:
        """One complete row of positive, group-highest score per key group (DESIGN §2).

        Ties break toward satisfying the template, then on the row values' canonical order, then
        the row id (crowdfill.model.ties): the same on every replica.
        """
        rows = self._rows
        return [rows[r] for r in sorted(self._final.values(), key=self._live.__getitem__)]

    def final_choices(self, group: GroupKey) -> list[Values]:
        """The values the group's final row could take: its tied winners when they serve different
        template rows, else just the final row's values (every other winner serves the same rows)."""
        tie = self._ties.get(group)
        if tie is not None:
            return list(tie.winners)
        row_id = self._final.get(group)
        return [self._rows[row_id].values] if row_id is not None else []

    def ambiguous_groups(self) -> list[GroupKey]:
        """Groups whose tied winners serve different template rows: their final row depends on
        other groups' (crowdfill.model.ties), so an operation elsewhere can move it."""
        return sorted(self._ties, key=repr)

    def worker_counted(self, worker: str, values: Values) -> bool:
        return self._tally.counts_worker(worker, values)

    def vote_records(self) -> list[tuple[str, str, Values]]:
        return sorted(self._tally.records(), key=lambda rec: (rec[0], rec[1], sort_key(rec[2])))

    def vote_record_set(self) -> frozenset[tuple[str, str, Values]]:
        """The vote records as a set, unsorted: for readers whose result depends only on the set
        (the reputation estimators), so they need not pay ``vote_records``' sort on every call."""
        return frozenset(self._tally.records())

    def retractions(self) -> list[tuple[str, str, Values]]:
        """The tombstones of retracted votes as (worker, kind, values), in a canonical order."""
        return sorted(self._tally.retractions(), key=lambda rec: (rec[0], rec[1], sort_key(rec[2])))

    def retracted(self, worker: str, kind: str, values: Values) -> bool:
        return self._tally.retracted(worker, kind, values)

    def annotation(self, values: Values, kind: str, column: str) -> Annotate | None:
        """The model's annotation (``prediction`` or ``suggestion``) of ``column`` for these values."""
        return self._annotations.get((values, kind, column))

    def annotations(self) -> list[Annotate]:
        """Every annotation kept, in a canonical order (values, kind, column)."""
        return [self._annotations[key] for key in sorted(self._annotations, key=_annotation_order)]

    def groups_containing(self, values: Values) -> set[GroupKey]:
        """Groups of the live rows whose values contain ``values`` (a downvote on them counts there)."""
        return set().union(*(self._groups_holding(v) for v in self._tally.tracked_supersets(values)))

    def fingerprint(self) -> tuple[object, ...]:
        """Everything that must agree between converged replicas, in a comparable form.

        Live rows with their values and counts, the ids of replaced rows, the vote records, the
        final table, the retraction tombstones, and (last) the values of the replaced rows this
        replica has seen.
        """
        rows = sorted((r, sort_key(self._rows[r].values), self.up(r), self.down(r)) for r in self._live)
        removed = sorted(self._tombstones | (self._rows.keys() - self._live.keys()))
        votes = [(w, k, sort_key(v)) for w, k, v in self.vote_records()]
        final = sorted(row.row_id for row in self.final_table())
        replaced = sorted((r, sort_key(row.values)) for r, row in self._rows.items() if r not in self._live)
        retracted = [(w, k, sort_key(v)) for w, k, v in self.retractions()]
        annotated = [
            (
                sort_key(a.values),
                a.kind,
                a.column,
                type(a.value).__name__,
                repr(a.value),
                a.confidence,
                a.worker,
            )
            for a in self.annotations()
        ]
        return (
            tuple(rows),
            tuple(removed),
            tuple(votes),
            tuple(final),
            tuple(retracted),
            tuple(replaced),
            tuple(annotated),
            tuple(self._weights.reweighs()),
            tuple(sorted(self._gold)),
        )

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
        if isinstance(operation, Retract):
            return self._validate_retract(operation)
        if isinstance(operation, Annotate):
            return self._validate_annotate(operation)
        return self._validate_downvote(operation)

    def integrate(self, operation: Operation | Reweigh) -> list[Event]:
        """Apply an operation the server accepted. Idempotent; order of arrival does not matter."""
        if isinstance(operation, Reweigh):
            return self._integrate_reweigh(operation)
        if isinstance(operation, Insert):
            return self._integrate_insert(operation)
        if isinstance(operation, Fill):
            return self._integrate_fill(operation)
        if isinstance(operation, Retract):
            return self._integrate_retract(operation)
        if isinstance(operation, Annotate):
            return self._integrate_annotate(operation)
        kind = "up" if isinstance(operation, Upvote) else "down"
        return self._integrate_vote(operation, kind)

    def close(self) -> None:
        self.closed = True

    def tombstone(self, row_id: str) -> None:
        """Record that ``row_id`` was replaced, before it is added (used when restoring a snapshot)."""
        if row_id in self._live:
            self._rescore(self._remove_row(row_id))
        elif row_id not in self._rows:
            self._tombstones.add(row_id)

    # ------------------------------------------------------------------ validation
    def _check_new_id(self, row_id: str) -> None:
        _check_identifier("new row id", row_id, MAX_ROW_ID_LENGTH)
        if row_id in self._rows or row_id in self._tombstones:
            raise DuplicateRowId(f"row id {row_id!r} is already taken; pick a fresh id")

    def _validate_insert(self, op: Insert) -> Insert:
        self._check_new_id(op.row_id)
        values = self._canonical(self.schema.normalise_values(dict(op.values)))
        if op.gold and not self.schema.is_complete(values):
            raise MalformedMessage(f"gold row {op.row_id!r} must be complete")
        return Insert(op.row_id, values, intern(op.worker), op.gold)

    def _validate_fill(self, op: Fill) -> Fill:
        old = self._rows.get(op.row_id)
        if old is None:
            raise UnknownRow(f"row {op.row_id!r} is not in the table")
        self._check_new_id(op.new_row_id)
        if self._weights.weight(op.worker) == 0.0:
            # A worker at weight 0 (quarantined or excluded) counts for nothing as a voter; as a
            # filler they would still replace rows: wrong values nobody can vote back into a right
            # row, holding the key's template row (docs/quality.md, "Fills at weight 0").
            raise FillerNotCounted(
                f"worker {op.worker!r} counts for nothing in this table (quarantined or excluded), "
                "so their fills are refused"
            )
        column = self.schema.column(op.column)
        present = dict(old.values)
        if column.name in present:
            raise CellAlreadyFilled(
                f"column {column.name!r} of row {op.row_id!r} is already filled with {present[column.name]!r}"
            )
        value = column.normalise(op.value)
        values = self._live_values(old.values | {self._item(column.name, value)})
        if op.values and self.schema.normalise_values(dict(op.values)) != values:
            raise ValueMismatch(
                f"the new row's values must be row {op.row_id!r}'s values plus {column.name}={value!r}"
            )
        upvote = (
            self.schema.is_complete(values)
            and not self._tally.counts_worker(op.worker, values)
            and not self._tally.retracted(op.worker, "up", values)
        )
        # The parent's id as the table holds it: the op's own copy would be kept apart by every
        # structure that files the fill under its parent (compensation ledger, the owner).
        return Fill(intern(op.worker), old.row_id, op.new_row_id, column.name, value, values, upvote)

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
        self._check_not_retracted(op.worker, "up", row)
        return Upvote(intern(op.worker), row.row_id, row.values)

    def _validate_downvote(self, op: Downvote) -> Downvote:
        row = self._known_row(op.row_id, op.values)
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
        self._check_not_retracted(op.worker, "down", row)
        return Downvote(intern(op.worker), row.row_id, row.values)

    def _check_not_retracted(self, worker: str, kind: str, row: Row) -> None:
        # The tombstone would swallow the vote on every replica: refuse it rather than accept a no-op.
        if self._tally.retracted(worker, kind, row.values):
            sign = "upvote" if kind == "up" else "downvote"
            raise RetractedVoteRecast(
                f"you took back your {sign} on row {row.row_id!r}; it cannot be cast again "
                "(you may still vote the other way)"
            )

    def _validate_retract(self, op: Retract) -> Retract:
        # A replaced row may be named: a downvote on it still counts against the rows that extend it.
        row = self._known_row(op.row_id, op.values)
        kinds = ("up", "down") if op.kind is None else (op.kind,)
        for kind in kinds:
            if self._tally.has_record(op.worker, kind, row.values):
                return Retract(intern(op.worker), row.row_id, row.values, "up" if kind == "up" else "down")
        raise NoVoteToRetract(
            f"you have no vote on exactly row {op.row_id!r}'s values to take back "
            "(a downvote counted through a part of the row belongs to the row you downvoted)"
        )

    def _validate_annotate(self, op: Annotate) -> Annotate:
        # Any row ever added may be annotated: the model answers after the row may have moved on.
        row = self._known_row(op.row_id, op.values)
        if op.kind not in ("prediction", "suggestion"):
            raise InvalidAnnotation(f"an annotation is a 'prediction' or a 'suggestion', not {op.kind!r}")
        column = self.schema.column(op.column)
        value = column.normalise(op.value)
        confidence = op.confidence
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0 <= confidence <= 1
        ):
            raise InvalidAnnotation(f"an annotation's confidence is a number in [0, 1], got {confidence!r}")
        if op.kind == "suggestion" and column.name in dict(row.values):
            raise InvalidAnnotation(
                f"column {column.name!r} of row {op.row_id!r} is filled; nothing to suggest"
            )
        worker = intern(op.worker)
        return Annotate(worker, row.row_id, op.kind, column.name, value, float(confidence), row.values)

    def _known_row(self, row_id: str, values: Values) -> Row:
        """The row ``row_id``, live or replaced, whose values match ``values`` when they are given."""
        row = self._rows.get(row_id)
        if row is None:
            raise UnknownRow(f"row {row_id!r} is not in the table")
        self._check_same_values(values, row)
        return row

    def _check_same_values(self, values: Values, row: Row) -> None:
        if values and values != row.values:
            raise ValueMismatch(f"the vote's values do not match row {row.row_id!r}")

    def _item(self, column: str, value: Value) -> Item:
        return self._share((column, value))

    def _share(self, item: Item) -> Item:
        """This table's one object for ``item`` (an equal item of the same value type)."""
        return self._items.setdefault((item, type(item[1])), item)

    def _canonical(self, values: Values) -> Values:
        """``values`` made of this table's shared items (equal to ``values``)."""
        if not values:
            return EMPTY  # an empty frozenset is 216 bytes, and every inserted template row has one
        return self._live_values(frozenset(map(self._share, values)))

    def _live_values(self, values: Values) -> Values:
        """The values object of a live row with values equal to ``values``, else ``values``: rows
        with equal values then share one frozenset (complete rows recur in a big table)."""
        for row_id in self._by_values.get(values, ()):
            return self._rows[row_id].values
        return values

    # ------------------------------------------------------------------ integration
    def _integrate_insert(self, op: Insert) -> list[Event]:
        if op.row_id in self._rows:
            return []
        row = Row(op.row_id, op.values)
        touched = self._add_row(row, gold=op.gold)
        return [RowInserted(row), *self._rescore(touched)]

    def _integrate_fill(self, op: Fill) -> list[Event]:
        if op.new_row_id in self._rows:
            return []
        row = Row(op.new_row_id, op.values)
        touched = self._add_row(row)
        removed = op.row_id in self._live
        if removed:
            touched |= self._remove_row(op.row_id)
        elif op.row_id not in self._rows:
            self._tombstones.add(op.row_id)  # replaced before this replica saw it added
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

    def _integrate_retract(self, op: Retract) -> list[Event]:
        if op.kind is None or not op.values:
            raise MalformedMessage("a retract must carry the values and kind the server gave it")
        shrunk = self._tally.retract(op.worker, op.kind, op.values)
        if shrunk is None:
            return []
        touched = set().union(*(self._groups_holding(v) for v in shrunk)) if shrunk else set()
        return [VoteRetracted(op.worker, op.kind, op.values, op.row_id), *self._rescore(touched)]

    def _integrate_annotate(self, op: Annotate) -> list[Event]:
        if not op.values:
            raise MalformedMessage("an annotation must carry the row values the server gave it")
        key = (op.values, op.kind, op.column)
        kept = self._annotations.get(key)
        if kept is not None and annotation_rank(kept) >= annotation_rank(op):
            return []
        # The row id is the first one this replica saw for these values; it is not part of the state.
        if kept is not None:
            op = Annotate(op.worker, kept.row_id, op.kind, op.column, op.value, op.confidence, op.values)
        self._annotations[key] = op
        return [RowAnnotated(op)]

    def _integrate_reweigh(self, op: Reweigh) -> list[Event]:
        silent = self._weights.silent
        if not self._weights.apply(op):
            return []
        # Other families count voters, not weights, but never the silent ones (weight 0).
        if self.scoring.family != "reputation" and silent == self._weights.silent:
            return []
        # Reweighs are rare (the server sends one when a weight moves by a step), so rescoring every
        # group is simpler than finding the ones this worker counts in, and as correct.
        return self._rescore(list(self._groups))

    def _counts(self, values: Values) -> tuple[Score, Score]:
        """(u, d) as the scoring reads them: counts of voters (but those at weight 0), or sums of
        their weights."""
        weights = self._weights
        up, down = self._tally.voters(values)
        if self.scoring.family == "reputation":
            return weights.total_of(up), weights.total_of(down)
        silent = weights.silent
        if silent:
            return len(up) - len(silent.intersection(up)), len(down) - len(silent.intersection(down))
        return len(up), len(down)

    def _add_row(self, row: Row, gold: bool = False) -> set[GroupKey]:
        order = len(self._rows)  # rows are never dropped from _rows: this counts every row added
        self._rows[row.row_id] = row
        if row.row_id in self._tombstones:
            self._tombstones.discard(row.row_id)  # now one of _rows that is not live: still replaced
            return set()
        self._live[row.row_id] = order
        holders = self._by_values.get(row.values, ())
        if not holders:
            self._tally.track(row.values)
        by_values = self._by_values[row.values] = added(holders, row.row_id)
        if gold:
            # Tracked, so votes on its values count; grouped nowhere, so they move no status.
            self._gold.add(row.row_id)
            return set()
        group = self._group_key(row)
        members = self._groups.get(group, ())
        for member in members:
            # The group's own key object: the rows of a group (and whoever reads their group) share
            # one key instead of an equal copy each (docs/scale.md, "Memory").
            group = self._group_of[member]
            break
        self._group_of[row.row_id] = group
        # A row alone in its value set and in its group: both hold the one tuple (holders are
        # replaced, never mutated), as most rows of a big table are.
        self._groups[group] = by_values if not holders and not members else added(members, row.row_id)
        return {group}

    def _remove_row(self, row_id: str) -> set[GroupKey]:
        row = self._rows[row_id]
        self._live.pop(row_id, None)
        holders = discarded(self._by_values[row.values], row_id)
        if holders:
            self._by_values[row.values] = holders
        else:
            del self._by_values[row.values]
            self._tally.untrack(row.values)
        if row_id in self._gold:
            return set()  # gold rows are complete, so no fill replaces them; a tombstone may
        group = self._group_of.pop(row_id)
        members = discarded(self._groups[group], row_id)
        if members:
            self._groups[group] = members
        else:
            del self._groups[group]
        return {group}

    def _only_values(self, values: Values, members: Members[str]) -> bool:
        """Whether every one of a key group's ``members`` has ``values`` (one of them does).

        Every non-gold live row with these values has the group's key, so is a member: when none
        of them is gold and they are as many as the members, they are the members."""
        same = self._by_values.get(values, ())
        return len(same) == len(members) and self._gold.isdisjoint(same)

    def _groups_holding(self, values: Values) -> set[GroupKey]:
        group_of = self._group_of
        # Gold rows share their values' votes but have no group (see _add_row).
        return {group_of[r] for r in self._by_values.get(values, ()) if r in group_of}

    def _group_key(self, row: Row) -> GroupKey:
        key = self.schema.key_of(row.values)
        if key is None:
            return ("row", row.row_id)
        return ("key", key)

    def _rescore(self, groups: Iterable[GroupKey]) -> list[Event]:
        events: list[Event] = []
        ordered = sorted(groups, key=repr)
        ties = self._ties
        before = {group: self._final[group] for group in ties} if ties else None
        for group in ordered:
            if ties:
                ties.pop(group, None)
            members = self._groups.get(group)
            if not members:
                self._best.pop(group, None)
                self._final.pop(group, None)
            else:
                self._rescore_group(group, members)
            events.append(GroupRescored(group))
        if ties:
            events.extend(self._break_ties(ordered, before))
        elif self._tie_breaker is not None:
            self._tie_breaker.mark(ordered)
        return events

    def _break_ties(self, ordered: list[GroupKey], before: dict[GroupKey, str] | None) -> list[Event]:
        """Choose the ambiguous groups' final rows (crowdfill.model.ties).

        ``before``: the ambiguous groups' final rows before this rescore, None if there were none.
        Returns a GroupRescored for each group not rescored whose final row the choice moved.
        """
        ties, final, rows = self._ties, self._final, self._rows
        breaker = self._tie_breaker
        if breaker is None:
            breaker = self._tie_breaker = TieBreaker(self.template)

        def final_of(group: GroupKey) -> Values | Tie | None:
            tie = ties.get(group)
            if tie is not None:
                return tie
            row_id = final.get(group)
            return rows[row_id].values if row_id is not None else None

        if not breaker.built:
            breaker.build((group, final_of(group)) for group in list(final))
        else:
            # The graph is a function of the final rows, whatever order they are updated in.
            for group in breaker.take_marked():
                breaker.update(group, final_of(group))
            for group in ordered:
                breaker.update(group, final_of(group))
        final.update(breaker.choose(ties))
        if before is None:
            return []  # every ambiguous group is new, hence rescored
        rescored = set(ordered)
        return [
            GroupRescored(g)
            for g in sorted(ties, key=repr)
            if g not in rescored and final[g] != before.get(g)
        ]

    def _rescore_group(self, group: GroupKey, members: Members[str]) -> None:
        scoring = self.scoring
        values = self._rows[next(iter(members))].values
        if len(members) == 1 or self._only_values(values, members):
            # Most groups hold one row (every row with an incomplete key is its own group), and a
            # big table's key groups mostly hold rows of one value set: scored once, the final row
            # is the smallest id among them, as below.
            score = scoring.score(*self._counts(values))
            self._best[group] = score
            if score > 0 and self.schema.is_complete(values):
                self._final[group] = min(members)
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
        if len(winners) == 1:
            self._final[group] = min(holders[winners[0]])
            return
        winners.sort(key=sort_key)
        self._final[group] = min(holders[winners[0]])
        if self.template.rows:
            breaker = self._tie_breaker
            if breaker is None:
                breaker = self._tie_breaker = TieBreaker(self.template)
            tie = breaker.tie([(values, min(holders[values])) for values in winners])
            if tie is not None:
                self._ties[group] = tie


def _check_identifier(name: str, value: object, limit: int) -> None:
    # Ids come from clients; a non-string would otherwise fail later as a TypeError, not a clear error.
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedMessage(f"{name} must be a string of 1 to {limit} characters, got {value!r}")


def _annotation_order(key: tuple[Values, str, str]) -> tuple[object, ...]:
    values, kind, column = key
    return (sort_key(values), kind, column)
