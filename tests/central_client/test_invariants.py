"""Random worker operations on random templates: the client's guarantees hold after every step."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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
    Template,
    Upvote,
    values_from_mapping,
)
from tests.central_client import oracle
from tests.central_client.support import Driver

POOL: dict[str, tuple[str, ...]] = {"a": ("a1", "a2", "a3"), "b": ("b1", "b2"), "c": ("c1", "c2")}
SCHEMAS = (
    Schema(tuple(Column(name) for name in POOL), ("a",)),
    Schema(tuple(Column(name) for name in POOL), ("a", "b")),
    Schema(tuple(Column(name) for name in POOL)),
)
SCORINGS = (
    Scoring(),
    Scoring("threshold", min_votes=1),
    Scoring("difference"),
    Scoring("majority", 1),
    Scoring("reputation", min_votes=1),
)
# The server's reweighs (reputation, quarantine at 0, exclusion by hand), chosen by a step's value.
REWEIGHTS = (0.0, 0.5, 1.0, 2.0, 0.0, 1.5)
WORKERS = ("w1", "w2", "w3", "w4", "w5", "w6")


@st.composite
def partial_rows(draw: st.DrawFn) -> dict[str, object]:
    columns = draw(st.sets(st.sampled_from(tuple(POOL))))
    return {column: draw(st.sampled_from(POOL[column])) for column in sorted(columns)}


@st.composite
def rows_with(draw: st.DrawFn, required: tuple[str, ...]) -> dict[str, object]:
    """A random row that fills at least the ``required`` columns."""
    row = draw(partial_rows())
    for column in required:
        row.setdefault(column, draw(st.sampled_from(POOL[column])))
    return dict(sorted(row.items()))


@st.composite
def templates(draw: st.DrawFn, schema: Schema) -> Template:
    rows: list[dict[str, object]] = []
    keys: set[tuple[object, ...]] = set()
    for row in draw(st.lists(st.one_of(partial_rows(), rows_with(schema.key)), max_size=5)):
        key = schema.key_of(values_from_mapping(row))  # type: ignore[arg-type]  # pool values are str
        if key is None or key not in keys:
            rows.append(row)
            if key is not None:
                keys.add(key)
    return Template.define(schema, rows)


@dataclass(frozen=True)
class Step:
    kind: str  # "seed" | "fill" | "up" | "down" | "retract" | "reweigh"
    row: int
    column: int
    value: int
    worker: str
    values: tuple[tuple[str, str], ...]


steps = st.builds(
    Step,
    kind=st.sampled_from(
        ("seed", "fill", "fill", "fill", "up", "up", "up", "down", "down", "retract", "retract", "reweigh")
    ),
    row=st.integers(0, 50),
    column=st.integers(0, 5),
    value=st.integers(0, 5),
    worker=st.sampled_from(WORKERS),
    values=st.one_of(partial_rows(), rows_with(tuple(POOL))).map(
        lambda row: tuple(sorted((k, str(v)) for k, v in row.items()))
    ),
)


def to_operation(driver: Driver, step: Step) -> Operation | Reweigh | None:
    table = driver.table
    schema = table.schema
    if step.kind == "reweigh":
        version = {op.worker: op.version for op in table.reweighs()}.get(step.worker, 0) + 1
        weight = REWEIGHTS[step.value % len(REWEIGHTS)]
        return Reweigh(step.worker, weight, version, excluded=weight == 0.0 and step.column % 2 == 0)
    if step.kind == "seed":
        return Insert(driver.new_id(), frozenset(step.values), worker="seed")
    if step.kind == "retract":
        # One of the worker's own votes, named by a row (live or replaced) holding exactly its values.
        mine = {values for worker, _, values in table.vote_records() if worker == step.worker}
        holders = [row for row in table.all_rows() if row.values in mine]
        return Retract(step.worker, holders[step.row % len(holders)].row_id) if holders else None
    live = table.rows()
    if step.kind == "up":
        live = [row for row in live if schema.is_complete(row.values)]
    if step.kind == "down":
        live = [row for row in live if row.values]
    if step.kind == "fill":
        live = [row for row in live if not schema.is_complete(row.values)]
    if not live:
        return None
    row = live[step.row % len(live)]
    if step.kind == "up":
        return Upvote(step.worker, row.row_id, frozenset())
    if step.kind == "down":
        return Downvote(step.worker, row.row_id, frozenset())
    present = dict(row.values)
    missing = [name for name in schema.names if name not in present]
    if not missing:
        return None
    column = missing[step.column % len(missing)]
    value = POOL[column][step.value % len(POOL[column])]
    return Fill(step.worker, row.row_id, driver.new_id(), column, value, frozenset())


def check_quiescent(table: CandidateTable, driver: Driver) -> None:
    client = driver.client
    edges = oracle.probable_edges(table)
    matching = client.matching()
    # A valid matching: real edges, distinct groups.
    assert len(set(matching.values())) == len(matching)
    for position, group in matching.items():
        assert group in edges[position], (position, group)
    # Maximum: as large as a from-scratch Hopcroft-Karp matching.
    assert len(matching) == oracle.maximum_matching_size(edges)
    # Every template row is served except those waiting for votes, each for the re-derived reason.
    waiting = oracle.waiting_positions(table)
    assert set(client.waiting_for_votes()) == waiting
    assert set(matching) == set(range(len(table.template.rows))) - waiting
    assert client.pending_inserts() == []
    # Termination exactly when the final table satisfies the template.
    assert client.satisfied == oracle.final_satisfies(table) == oracle.some_tie_choice_satisfies(table)
    satisfaction = client.satisfaction()
    if client.satisfied:
        assert satisfaction is not None
        final = {row.row_id: row.values for row in table.final_table()}
        assert len(set(satisfaction.values())) == len(satisfaction) == len(table.template.rows)
        for position, row_id in satisfaction.items():
            assert table.template.rows[position] <= final[row_id]
    else:
        assert satisfaction is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), schema=st.sampled_from(SCHEMAS), scoring=st.sampled_from(SCORINGS))
def test_the_invariant_holds_after_every_random_worker_operation(
    data: st.DataObject, schema: Schema, scoring: Scoring
) -> None:
    template = data.draw(templates(schema))
    table = CandidateTable(schema, scoring, template)
    driver = Driver(table, close_when_satisfied=False)
    size = len(template.rows)

    expected = oracle.minimal_insert_count(table)
    assert len(driver.start()) == expected
    check_quiescent(table, driver)
    applied = 0
    for step in data.draw(st.lists(steps, min_size=20, max_size=60)):
        op = to_operation(driver, step)
        if op is None:
            continue
        try:
            # The server's reweighs are integrated as they are (nothing to validate), and can
            # rescore every group: the central client must follow them like any operation.
            events = table.integrate(op) if isinstance(op, Reweigh) else table.apply(op)
        except CrowdFillError:
            continue
        applied += 1
        event(f"applied: {type(op).__name__}")
        expected = oracle.minimal_insert_count(table)
        inserts = driver.client.observe(events)
        assert len(inserts) == expected, "inserts must be exactly as many as needed"
        for insert in inserts:
            assert template.protects(insert.values) or not insert.values
            driver.apply_inserts([insert])
            assert table.status(insert.row_id).probable, "an insert must be probable on arrival"
        check_quiescent(table, driver)
        event(f"inserts after a worker operation: {min(len(inserts), 2)}")
        event(f"waiting for votes: {bool(driver.client.waiting_for_votes())}")
        event(f"satisfied: {driver.client.satisfied}")
    event(f"worker operations applied: {min(applied // 10 * 10, 20)}+")
    assert driver.client.inserted_count <= size * (1 + applied)
    # Nothing more to do: neither a rebuild nor a fresh client inserts anything.
    assert driver.client.start() == []
    check_quiescent(table, driver)
    fresh = Driver(table, close_when_satisfied=False)
    assert fresh.client.start() == []


@settings(max_examples=50, deadline=None)
@given(data=st.data(), schema=st.sampled_from(SCHEMAS))
def test_once_satisfied_the_table_is_closed_and_refuses_worker_operations(
    data: st.DataObject, schema: Schema
) -> None:
    template = data.draw(templates(schema))
    table = CandidateTable(schema, Scoring("threshold", min_votes=1), template)
    driver = Driver(table)
    driver.start()
    for step in data.draw(st.lists(steps, max_size=30)):
        op = to_operation(driver, step)
        if op is None or isinstance(op, Reweigh):
            continue  # the server never reweighs a closed table; this test is about worker ops
        try:
            driver.apply(op)
        except CrowdFillError as error:
            refused_as_closed = error.code == "table_closed"
            assert refused_as_closed or not table.closed
        assert table.closed == driver.client.satisfied == oracle.final_satisfies(table)
        assert driver.client.satisfied == oracle.some_tie_choice_satisfies(table)
