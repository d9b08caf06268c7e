"""Random operation histories for the property tests: small domains so that keys collide, rows
fork under concurrent fills, and votes agree and disagree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from hypothesis import strategies as st

from crowdfill.compensation import CompensationSettings
from crowdfill.model import (
    CandidateTable,
    Column,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Schema,
    Scoring,
    Template,
    Upvote,
    Value,
)

SCHEMA = Schema(
    (
        Column("k1", "text", ("x", "y", "z")),
        Column("k2", "text", ("p", "q")),
        Column("v1", "integer", (1, 2)),
        Column("v2", "boolean"),
    ),
    ("k1", "k2"),
)
DOMAINS: dict[str, tuple[Value, ...]] = {
    "k1": ("x", "y", "z"),
    "k2": ("p", "q"),
    "v1": (1, 2),
    "v2": (True, False),
}
TEMPLATES: list[list[dict[str, object]]] = [
    [],
    [{}],
    [{"k1": "x"}, {}],
    [{"k2": "q"}, {"k1": "y", "k2": "p"}],
    [{"k1": "z", "k2": "q", "v1": 2, "v2": True}, {"v1": 1}],
]
SCORINGS = [
    Scoring(),
    Scoring("difference"),
    Scoring("threshold", min_votes=1),
    # downvotes can raise these scores across the threshold: f(2, 0) = 0 < f(2, 1) = 1
    Scoring("threshold", min_votes=3),
    Scoring("weighted", min_votes=2, up_weight=3, down_weight=1),
]
WORKERS = ("ann", "ben", "cal", "dee", "eli")


@dataclass(frozen=True)
class History:
    table: CandidateTable
    log: list[Operation]

    def replay(self) -> CandidateTable:
        table = CandidateTable(self.table.schema, self.table.scoring, self.table.template)
        for op in self.log:
            table.integrate(op)
        return table


Action = tuple[int, int, int, int, int]  # kind, row pick, column / template pick, value pick, worker


def play(template: int, scoring: int, actions: list[Action]) -> History:
    """Apply the actions that the table accepts; refused ones are skipped like a server would."""
    table = CandidateTable(SCHEMA, SCORINGS[scoring], Template.define(SCHEMA, TEMPLATES[template]))
    log: list[Operation] = []
    made: list[str] = []
    for kind, row_pick, column_pick, value_pick, worker_pick in actions:
        worker = WORKERS[worker_pick % len(WORKERS)]
        op: Operation
        if kind == 0 or not made:
            rows = table.template.rows
            values = rows[column_pick % len(rows)] if rows and column_pick % 3 else frozenset()
            op = Insert(f"i{len(log)}", values)
        else:
            row_id = _pick(table, made, kind, row_pick)
            if kind in (1, 2, 3):
                column = SCHEMA.names[column_pick % len(SCHEMA.names)]
                domain = DOMAINS[column]
                op = Fill(
                    worker, row_id, f"f{len(log)}", column, domain[value_pick % len(domain)], frozenset()
                )
            elif kind in (4, 5, 6):
                op = Upvote(worker, row_id, frozenset())
            elif kind == 7:
                op = Downvote(worker, row_id, frozenset())
            else:
                # Take back one of the worker's votes, named by a row holding exactly its values.
                mine = {values for voter, _, values in table.vote_records() if voter == worker}
                holders = [row.row_id for row in table.all_rows() if row.values in mine]
                op = Retract(worker, holders[row_pick % len(holders)] if holders else row_id)
        try:
            canonical = table.validate(op)
        except CrowdFillError:
            continue
        table.integrate(canonical)
        log.append(canonical)
        if isinstance(canonical, Insert):
            made.append(canonical.row_id)
        elif isinstance(canonical, Fill):
            made.append(canonical.new_row_id)
    return History(table, log)


actions = st.lists(
    st.tuples(
        st.integers(0, 8), st.integers(0, 200), st.integers(0, 20), st.integers(0, 5), st.integers(0, 9)
    ),
    min_size=10,
    max_size=120,
)


def _pick(table: CandidateTable, made: list[str], kind: int, pick: int) -> str:
    """Mostly live rows (complete ones for upvotes, incomplete ones for fills), sometimes any row
    ever made (a fill of a replaced row is a concurrent fill: the table forks)."""
    if pick % 5 == 0:
        return made[pick % len(made)]
    live = table.rows()
    if kind in (4, 5, 6):
        live = [row for row in live if SCHEMA.is_complete(row.values)] or live
    elif kind in (1, 2, 3):
        live = [row for row in live if not SCHEMA.is_complete(row.values)] or live
    return live[pick % len(live)].row_id if live else made[pick % len(made)]


@st.composite
def histories(draw: st.DrawFn) -> History:
    return play(
        draw(st.integers(0, len(TEMPLATES) - 1)), draw(st.integers(0, len(SCORINGS) - 1)), draw(actions)
    )


@st.composite
def settings(draw: st.DrawFn) -> CompensationSettings:
    weights = draw(st.lists(st.integers(0, 5), min_size=4, max_size=4).filter(lambda ws: sum(ws) > 0))
    return CompensationSettings(
        budget_cents=draw(st.integers(0, 10**7)),
        growth=draw(st.sampled_from([1, 1.05, 1.1, 2, 37.5])),
        column_weights=dict(zip(SCHEMA.names, weights, strict=True)),
        vote_share=draw(st.sampled_from([0, 0.2, 0.5, 1, 0.333])),
    )


def standing(log: list[Operation]) -> list[Operation]:
    """The log without the votes that a retract took back (and without the retracts themselves)."""
    gone = {(op.worker, op.kind, op.values) for op in log if isinstance(op, Retract)}
    kept: list[Operation] = []
    for op in log:
        if isinstance(op, Retract):
            continue
        sign = "up" if isinstance(op, Upvote) else "down"
        if isinstance(op, Upvote | Downvote) and (op.worker, sign, op.values) in gone:
            continue
        if isinstance(op, Fill) and op.upvote and (op.worker, "up", op.values) in gone:
            op = replace(op, upvote=False)
        kept.append(op)
    return kept


def exact_reference(
    history: History, settings: CompensationSettings, *, completed: bool
) -> dict[str, Fraction]:
    """Exact pay by a direct reading of docs/compensation.md, with exact weights g**rank: a table
    closed early reserves the shares of the template rows it lacks; a completed one scales the
    earnings up to the whole budget."""
    table, log = history.table, history.log
    schema = table.schema
    made_by: dict[str, Fill | Insert] = {}
    first_with: dict[frozenset[tuple[str, Value]], str] = {}
    key_time: dict[tuple[Value, ...], int] = {}
    for position, op in enumerate(log):
        if isinstance(op, Insert | Fill):
            row_id = op.row_id if isinstance(op, Insert) else op.new_row_id
            made_by[row_id] = op
            first_with.setdefault(op.values, row_id)
            key = schema.key_of(op.values)
            if key is not None:
                key_time.setdefault(key, position)
    final = sorted(table.final_table(), key=lambda row: key_time[schema.key_of(row.values) or ()])
    growth = (
        Fraction(repr(settings.growth)) if isinstance(settings.growth, float) else Fraction(settings.growth)
    )
    missing = 0 if completed else max(0, len(table.template) - len(final))
    weights = [growth**rank for rank in range(len(final))]
    reserved = [growth**rank for rank in range(len(final), len(final) + missing)]
    share = (
        Fraction(repr(settings.vote_share))
        if isinstance(settings.vote_share, float)
        else Fraction(settings.vote_share)
    )
    given = settings.column_weights or {}
    column = {name: Fraction(given.get(name, 1)) for name in schema.names}
    earned: dict[str, Fraction] = {}
    for row, weight in zip(final, weights, strict=True):
        row_share = settings.budget_cents * weight / (sum(weights) + sum(reserved))
        current = made_by[first_with[row.values]]
        while isinstance(current, Fill):
            part = (1 - share) * row_share * column[current.column] / sum(column.values())
            earned[current.worker] = earned.get(current.worker, Fraction(0)) + part
            current = made_by[current.row_id]
        key = schema.key_of(row.values)
        agree: set[str] = set()
        against: set[str] = set()
        for op in standing(log):
            if isinstance(op, Upvote) and op.values == row.values:
                agree.add(op.worker)
            voted_up = isinstance(op, Upvote) or (isinstance(op, Fill) and op.upvote)
            if voted_up and op.values != row.values and schema.key_of(op.values) == key:
                against.add(op.worker)
            if isinstance(op, Downvote):
                if op.values <= row.values:
                    against.add(op.worker)
                elif schema.key_of(op.values) == key:
                    agree.add(op.worker)
        voters = agree - against
        for worker in voters:
            earned[worker] = earned.get(worker, Fraction(0)) + share * row_share / len(voters)
    total = sum(earned.values(), Fraction(0))
    if completed and total:
        return {worker: amount * settings.budget_cents / total for worker, amount in earned.items()}
    return earned
