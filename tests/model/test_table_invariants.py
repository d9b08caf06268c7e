"""A state machine over random operation sequences, checking the table's invariants after each step.

The schema is tiny and has domains so that fills collide, rows duplicate and key groups compete.
"""

from __future__ import annotations

import itertools
import math
import pickle
import random

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from crowdfill.model import (
    CandidateTable,
    Column,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Reweigh,
    Schema,
    Scoring,
    Status,
    Template,
    Upvote,
    Values,
)
from crowdfill.model.snapshot import restore, snapshot
from tests.model.support import check_final_table, recount

SCHEMA = Schema(
    (
        Column("team", "text", ("ajax", "psv")),
        Column("number", "integer", (1, 2)),
        Column("captain", "boolean"),
    ),
    ("team", "number"),
)
TEMPLATE = Template.define(SCHEMA, [{"team": "ajax"}, {"captain": True}])
COLUMNS = ("team", "number", "captain", "coach")  # "coach" is not a column: refused fills
RAW_VALUES: tuple[object, ...] = ("ajax", "psv", "feyenoord", 1, 2, 3, "2", True, False, "yes", None)
WORKERS = ("w1", "w2", "w3", "w4")
ALLOWED: dict[str, tuple[object, ...]] = {"team": ("ajax", "psv"), "number": (1, 2), "captain": (True, False)}
SCORINGS = (Scoring(), Scoring("difference"), Scoring("majority", min_votes=1), Scoring("reputation"))

workers = st.sampled_from(WORKERS)
picks = st.integers(0, 10_000)
raw = st.sampled_from(RAW_VALUES)
columns = st.sampled_from(COLUMNS)


class TableMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.table = CandidateTable(SCHEMA, SCORINGS[0], TEMPLATE)
        self.accepted: list[Operation | Reweigh] = []
        self.values_of: dict[str, Values] = {}
        self.ids = itertools.count(1)
        self.refused = 0

    # ---------------------------------------------------------------- helpers
    def pick_row(self, pick: int) -> str:
        # Mostly live rows (so operations get accepted), sometimes replaced or unknown ones.
        live = [row.row_id for row in self.table.rows()]
        if pick % 10 < 8 and live:
            return live[pick // 10 % len(live)]
        if pick % 10 == 8 and self.values_of:
            known = sorted(self.values_of)
            return known[pick // 10 % len(known)]
        return "unknown-row"

    def pick_new_id(self, pick: int) -> str:
        # Mostly fresh ids, sometimes one already taken (refused with DuplicateRowId).
        if pick % 13 == 0 and self.values_of:
            return sorted(self.values_of)[pick % len(self.values_of)]
        return f"r{next(self.ids)}"

    def pick_cell(self, row_id: str, pick: int) -> tuple[str, object]:
        """Usually an empty cell of the row and an allowed value; otherwise anything at all."""
        if pick % 5 == 0 or row_id not in self.values_of:
            return COLUMNS[pick // 5 % len(COLUMNS)], RAW_VALUES[pick // 7 % len(RAW_VALUES)]
        filled = {column for column, _ in self.values_of[row_id]}
        empty = [column for column in COLUMNS[:3] if column not in filled] or ["team"]
        column = empty[pick // 5 % len(empty)]
        allowed = ALLOWED[column]
        return column, allowed[pick // 11 % len(allowed)]

    def attempt(self, op: Operation) -> None:
        before = self.table.fingerprint()
        try:
            canonical = self.table.validate(op)
        except CrowdFillError as error:
            self.check_refusal(op, error, before)
            return
        assert self.table.fingerprint() == before, "validate changed the table"
        # Quarantined and excluded workers (weight 0) vote for nothing and may not fill at all.
        assert not (isinstance(op, Fill) and self.table.weight(op.worker) == 0.0), (
            "a worker at weight 0 filled"
        )
        self.table.integrate(canonical)
        self.accepted.append(canonical)
        event(f"{type(op).__name__} accepted")

    def check_refusal(self, op: Operation, error: CrowdFillError, before: tuple[object, ...]) -> None:
        assert error.message, "every refusal says what is wrong"
        assert self.table.fingerprint() == before, "a refused operation changed the table"
        self.refused += 1
        event(f"{type(op).__name__} refused: {error.code}")

    # ---------------------------------------------------------------- rules
    @initialize(scoring=st.sampled_from(SCORINGS))
    def start(self, scoring: Scoring) -> None:
        # Start like a launched table: the central client's rows for the template, plus an empty one.
        self.table = CandidateTable(SCHEMA, scoring, TEMPLATE)
        for values in (*TEMPLATE.rows, frozenset()):
            self.attempt(Insert(f"r{next(self.ids)}", values))

    @rule(
        cells=st.dictionaries(st.sampled_from(COLUMNS[:3]), raw, max_size=2), new=picks, valid=st.booleans()
    )
    def insert(self, cells: dict[str, object], new: int, valid: bool) -> None:
        if valid:
            cells = {column: ALLOWED[column][new % 2] for column in cells}
        self.attempt(Insert(self.pick_new_id(new), frozenset(cells.items())))  # type: ignore[arg-type]  # raw input

    @rule(worker=workers, row=picks, cell=picks, new=picks)
    def fill(self, worker: str, row: int, cell: int, new: int) -> None:
        row_id = self.pick_row(row)
        column, value = self.pick_cell(row_id, cell)
        self.attempt(Fill(worker, row_id, self.pick_new_id(new), column, value, frozenset()))  # type: ignore[arg-type]  # raw input

    @rule(first=workers, second=workers, row=picks, cell_a=picks, cell_b=picks)
    def concurrent_fills(self, first: str, second: str, row: int, cell_a: int, cell_b: int) -> None:
        """Two fills of one row validated against the same state, as the server sees concurrent ones."""
        target = self.pick_row(row)
        ops = []
        for worker, cell in ((first, cell_a), (second, cell_b)):
            column, value = self.pick_cell(target, cell)
            fill = Fill(worker, target, f"r{next(self.ids)}", column, value, frozenset())  # type: ignore[arg-type]  # raw input
            try:
                ops.append(self.table.validate(fill))
            except CrowdFillError:
                self.refused += 1
        for op in ops:
            self.table.integrate(op)
            self.accepted.append(op)
            event("concurrent Fill accepted")
        if len(ops) == 2:
            assert isinstance(ops[0], Fill)
            assert isinstance(ops[1], Fill)
            assert ops[0].new_row_id in self.table
            assert ops[1].new_row_id in self.table

    @rule(worker=workers, row=picks)
    def upvote(self, worker: str, row: int) -> None:
        self.attempt(Upvote(worker, self.pick_row(row), frozenset()))

    @rule(worker=workers, row=picks)
    def downvote(self, worker: str, row: int) -> None:
        self.attempt(Downvote(worker, self.pick_row(row), frozenset()))

    @rule(worker=workers, row=picks, own=st.booleans())
    def retract(self, worker: str, row: int, own: bool) -> None:
        """Mostly a row holding exactly one of the worker's records, sometimes any row."""
        mine = [values for w, _, values in self.table.vote_records() if w == worker]
        holders = [r.row_id for r in self.table.all_rows() if r.values in mine]
        row_id = holders[row % len(holders)] if own and holders else self.pick_row(row)
        self.attempt(Retract(worker, row_id))

    @rule(worker=workers, row=picks)
    def recast_after_retract(self, worker: str, row: int) -> None:
        """Voting again after a retract: the same sign is refused, the other may be accepted."""
        gone = [(kind, values) for w, kind, values in self.table.retractions() if w == worker]
        if not gone:
            return
        kind, values = gone[row % len(gone)]
        holders = [r.row_id for r in self.table.all_rows() if r.values == values]
        vote = Upvote if (kind == "up") == (row % 2 == 0) else Downvote
        self.attempt(vote(worker, holders[row % len(holders)], frozenset()))

    @rule(team=st.sampled_from(("ajax", "psv")), number=st.sampled_from((1, 2)), captain=st.booleans())
    def gold(self, team: str, number: int, captain: bool) -> None:
        """A gold row the server inserts at launch; it may share its key, or all its values, with a
        real row."""
        values: Values = frozenset({("team", team), ("number", number), ("captain", captain)})
        self.attempt(Insert(f"r{next(self.ids)}", values, gold=True))

    @rule(
        worker=workers,
        weight=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
        version=st.integers(1, 4),
        excluded=st.booleans(),
    )
    def reweigh(self, worker: str, weight: float, version: int, excluded: bool) -> None:
        """What the server emits from its reputation estimates, or a requester's exclusion (weight
        0); versions may arrive out of order."""
        op = Reweigh(worker, 0.0 if excluded else weight, version, excluded)
        self.table.integrate(op)
        self.accepted.append(op)
        event("Reweigh integrated" if not excluded else "exclusion integrated")

    @rule(pick=picks)
    @precondition(lambda self: bool(self.accepted))
    def integrate_again(self, pick: int) -> None:
        before = self.table.fingerprint()
        assert self.table.integrate(self.accepted[pick % len(self.accepted)]) == []
        assert self.table.fingerprint() == before

    @rule()
    def pickle_the_table_and_go_on_with_the_copy(self) -> None:
        # What a state capture does to it: its rows go as columns (CandidateTable.__getstate__).
        before = self.table.fingerprint()
        rows = [(row.row_id, row.values) for row in self.table.all_rows()]
        copy = pickle.loads(pickle.dumps(self.table, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301  # its own bytes
        assert copy.fingerprint() == before
        assert [(row.row_id, row.values) for row in copy.all_rows()] == rows
        assert copy.rows() == self.table.rows()
        self.table = copy

    # ---------------------------------------------------------------- invariants
    @invariant()
    def rows_are_never_edited_in_place(self) -> None:
        for row in self.table.all_rows():
            assert self.values_of.setdefault(row.row_id, row.values) == row.values
        assert len(self.table.all_rows()) == len(self.values_of)

    @invariant()
    def counts_equal_a_recount_from_the_vote_records(self) -> None:
        table = self.table
        assert recount(table) == {r.row_id: (table.up(r.row_id), table.down(r.row_id)) for r in table.rows()}

    @invariant()
    def scores_and_disowned_rows_follow_from_the_vote_records_and_the_weights(self) -> None:
        """Recounted from the records: voters' weights summed under ``reputation``, else voters
        counted but those at weight 0; a row is disowned when incomplete with d > u."""
        table = self.table
        records = table.vote_records()
        for row in table.rows():
            up = {w for w, kind, v in records if kind == "up" and v == row.values}
            down = {w for w, kind, v in records if kind == "down" and v <= row.values}
            if table.scoring.family == "reputation":
                u: float = math.fsum(table.weight(w) for w in up)
                d: float = math.fsum(table.weight(w) for w in down)
            else:
                u = len({w for w in up if table.weight(w) != 0.0})
                d = len({w for w in down if table.weight(w) != 0.0})
            score = table.scoring.score(u, d)
            disowned = not SCHEMA.is_complete(row.values) and d > u
            assert table.score(row.row_id) == score
            assert table.disowned(row.row_id) == disowned
            assert table.score_and_disowned(row.row_id) == (score, disowned)

    @invariant()
    def each_groups_scored_values_are_its_rows_scores_once_per_distinct_value_set(self) -> None:
        table = self.table
        for group in table.groups():
            per_row = {(*table.score_and_disowned(row.row_id), row.values) for row in table.group_rows(group)}
            scored = table.scored_values(group)
            assert len(scored) == len({values for _, values, _ in scored})  # each value set once
            assert {(score, disowned, values) for score, values, disowned in scored} == per_row

    @invariant()
    def the_vote_records_are_the_accepted_votes_minus_the_retracted_ones(self) -> None:
        cast: set[tuple[str, str, Values]] = set()
        retracted: set[tuple[str, str, Values]] = set()
        for op in self.accepted:
            if isinstance(op, Upvote) or (isinstance(op, Fill) and op.upvote):
                cast.add((op.worker, "up", op.values))
            elif isinstance(op, Downvote):
                cast.add((op.worker, "down", op.values))
            elif isinstance(op, Retract):
                assert op.kind is not None
                assert (op.worker, op.kind, op.values) in cast, "a retract names a vote that was cast"
                retracted.add((op.worker, op.kind, op.values))
        assert set(self.table.vote_records()) == cast - retracted
        assert set(self.table.retractions()) == retracted

    @invariant()
    def a_worker_counts_at_most_once_per_row(self) -> None:
        for row in self.table.rows():
            assert not self.table.upvoters(row.row_id) & self.table.downvoters(row.row_id)

    @invariant()
    def final_rows_are_complete_positive_and_the_highest_of_their_own_group(self) -> None:
        table = self.table
        final = table.final_table()
        groups = [table.group_of(row.row_id) for row in final]
        assert len(groups) == len(set(groups))
        for row, group in zip(final, groups, strict=True):
            assert SCHEMA.is_complete(row.values)
            assert table.score(row.row_id) > 0
            assert table.score(row.row_id) == max(table.score(r.row_id) for r in table.group_rows(group))
            assert table.status(row.row_id) is Status.GREEN
        check_final_table(table)

    @invariant()
    def the_final_table_is_the_one_a_fresh_replica_computes_from_the_operations_reversed(self) -> None:
        # The tie-break keeps a graph across operations (crowdfill.model.ties); a fresh replica
        # builds it at once, in another order: the choice must not depend on that history.
        replica = CandidateTable(SCHEMA, self.table.scoring, TEMPLATE)
        for op in reversed(self.accepted):
            replica.integrate(op)
        assert {r.row_id for r in replica.final_table()} == {r.row_id for r in self.table.final_table()}

    @invariant()
    def statuses_follow_their_definition(self) -> None:
        table = self.table
        for row in table.rows():
            if table.is_gold(row.row_id):
                continue  # a gold row is in no group (gold_rows_change_no_other_row)
            score = table.score(row.row_id)
            best = max(table.score(r.row_id) for r in table.group_rows(table.group_of(row.row_id)))
            status = table.status(row.row_id)
            if score < 0:
                assert status is Status.RED
            elif score < best:
                assert status is Status.YELLOW
            elif score > 0 and SCHEMA.is_complete(row.values):
                assert status is Status.GREEN
            else:
                assert status is Status.BLUE

    @invariant()
    def gold_rows_change_no_other_row(self) -> None:
        """Gold rows are never final and never move another row's status or the final table: a
        replica that never saw the gold inserts (but every vote) agrees on every other row."""
        table = self.table
        gold = table.gold_ids()
        assert not gold & {row.row_id for row in table.final_table()}
        plain = CandidateTable(SCHEMA, table.scoring, TEMPLATE)
        for op in self.accepted:
            if not (isinstance(op, Insert) and op.gold):
                plain.integrate(op)
        assert [r.row_id for r in plain.final_table()] == [r.row_id for r in table.final_table()]
        for row in table.rows():
            if row.row_id not in gold:
                assert table.status(row.row_id) is plain.status(row.row_id)
                assert table.group_of(row.row_id) == plain.group_of(row.row_id)

    def teardown(self) -> None:
        event(f"final table rows: {len(self.table.final_table())}")
        ambiguous = sum(len(self.table.final_choices(g)) > 1 for g in self.table.groups())
        event(f"groups with an ambiguous tie at the end: {min(ambiguous, 2)}")
        event(f"red rows: {sum(self.table.status(r.row_id) is Status.RED for r in self.table.rows())}")
        # The same operations in reverse order (fills before the rows they replace) give the same
        # table, and so does a snapshot.
        replica = CandidateTable(SCHEMA, self.table.scoring, TEMPLATE)
        for op in reversed(self.accepted):
            replica.integrate(op)
        assert replica.fingerprint() == self.table.fingerprint()
        shuffled = list(self.accepted)
        random.Random(len(shuffled)).shuffle(shuffled)
        replica = CandidateTable(SCHEMA, self.table.scoring, TEMPLATE)
        for op in shuffled:
            replica.integrate(op)
        assert replica.fingerprint() == self.table.fingerprint()
        copy = restore(SCHEMA, self.table.scoring, TEMPLATE, snapshot(self.table))
        assert copy.fingerprint() == self.table.fingerprint()


TableMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_the_table_keeps_its_invariants_under_random_operations = TableMachine.TestCase
