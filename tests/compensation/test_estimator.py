"""Live estimates: bounded by the budget while collecting, exact once the table is closed."""

from __future__ import annotations

import io
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation import CompensationSettings, Estimator, LogMismatch, settle
from crowdfill.compensation.estimator import Estimate
from crowdfill.compensation.ledger import Key
from crowdfill.model import (
    CandidateTable,
    Column,
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
from crowdfill.model.examples import SOCCER_PLAYER
from tests.compensation.histories import History, histories
from tests.compensation.histories import settings as compensation_settings

EXAMPLES = settings(max_examples=100, deadline=None)


def _replayed_with_estimator(
    history: History, chosen: CompensationSettings
) -> tuple[CandidateTable, Estimator]:
    table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    estimator = Estimator(table, chosen)
    workers = sorted({op.worker for op in history.log})
    for op in history.log:
        table.integrate(op)
        estimator.observe(op)
        estimates = [estimator.estimate(worker) for worker in workers]
        assert all(e["total"] >= 0 and e["vote"] >= 0 for e in estimates)
        assert all(cents >= 0 for e in estimates for cents in e["fill"].values())
        assert sum(e["total"] for e in estimates) <= chosen.budget_cents
    return table, estimator


@EXAMPLES
@given(histories(), compensation_settings())
def test_estimates_never_add_up_to_more_than_the_budget(
    history: History, chosen: CompensationSettings
) -> None:
    _replayed_with_estimator(history, chosen)


@EXAMPLES
@given(histories(), compensation_settings())
def test_a_rooms_estimates_at_once_are_each_workers_estimate_asked_alone(
    history: History, chosen: CompensationSettings
) -> None:
    table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    estimator = Estimator(table, chosen)
    workers = [*sorted({op.worker for op in history.log}), "nobody-yet"]
    for op in history.log:
        table.integrate(op)
        estimator.observe(op)
        at_once = estimator.estimates(workers)
        assert at_once == {worker: estimator.estimate(worker) for worker in workers}
        _assert_own_fill_dicts(at_once)
    table.close()
    closed = estimator.estimates(workers)
    assert closed == {worker: estimator.estimate(worker) for worker in workers}
    _assert_own_fill_dicts(closed)


def _assert_own_fill_dicts(estimates: dict[str, Estimate]) -> None:
    # Each worker's fill dict is its own: the server keeps what it sent to each session.
    fills = [estimate["fill"] for estimate in estimates.values()]
    assert len({id(fill) for fill in fills}) == len(fills)


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_estimates_converge_to_the_payments_once_the_table_is_closed(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    table, estimator = _replayed_with_estimator(history, chosen)
    table.close()
    estimator.conclude(completed=completed)
    settlement = settle(table, history.log, chosen, completed=completed)
    for worker, cents in settlement.payments.items():
        estimate = estimator.estimate(worker)
        assert estimate["total"] == cents
        assert estimate["vote"] == 0
        assert set(estimate["fill"].values()) == {0}


@EXAMPLES
@given(histories(), compensation_settings())
def test_the_incremental_probable_rows_are_those_a_fresh_estimator_finds(
    history: History, chosen: CompensationSettings
) -> None:
    table, estimator = _replayed_with_estimator(history, chosen)
    fresh = Estimator(table, chosen, history=history.log)
    assert estimator.probable_rows() == fresh.probable_rows()
    for key, row_id in fresh.probable_rows().items():
        assert table.status(row_id).probable
        assert table.group_of(row_id) == ("key", key)


@EXAMPLES
@given(histories(), compensation_settings())
def test_a_worker_with_no_part_in_any_probable_row_is_estimated_at_zero(
    history: History, chosen: CompensationSettings
) -> None:
    table, estimator = _replayed_with_estimator(history, chosen)
    for worker in {op.worker for op in history.log} - _possible_shareholders(table, estimator, history):
        assert estimator.estimate(worker)["total"] == 0


def _possible_shareholders(table: CandidateTable, estimator: Estimator, history: History) -> set[str]:
    """Fillers of the paid chains of the probable rows, their upvoters and anyone who voted in their
    key groups: a superset of who can have a part, computed without the estimator's code."""
    fills = {op.new_row_id: op for op in history.log if isinstance(op, Fill)}
    first_with: dict[frozenset[tuple[str, object]], str] = {}
    for op in history.log:
        if isinstance(op, Fill):
            first_with.setdefault(op.values, op.new_row_id)
        elif isinstance(op, Insert):
            first_with.setdefault(op.values, op.row_id)
    holders: set[str] = set()
    for row_id in estimator.probable_rows().values():
        values = table.row(row_id).values
        current = first_with[values]
        while current in fills:
            holders.add(fills[current].worker)
            current = fills[current].row_id
        key = table.schema.key_of(values)
        for op in history.log:
            if isinstance(op, Upvote | Downvote) and table.schema.key_of(op.values) == key:
                holders.add(op.worker)
    return holders


def test_a_new_worker_sees_what_a_fill_and_a_vote_are_worth_before_doing_anything() -> None:
    table = CandidateTable(SOCCER_PLAYER)
    estimator = Estimator(table, CompensationSettings(10_000, vote_share=0.2))
    estimate = estimator.estimate("newcomer")
    # no probable row yet: the next row would take the whole budget
    assert estimate == {"fill": dict.fromkeys(SOCCER_PLAYER.names, 1600), "vote": 2000, "total": 0}


PELE: dict[str, Value] = {"name": "Pelé", "nationality": "Brazil", "position": "FW", "caps": 92, "goals": 77}
XAVI: dict[str, Value] = {"name": "Xavi", "nationality": "Spain", "position": "MF", "caps": 133, "goals": 13}


def _complete_a_row(
    table: CandidateTable, worker: str, estimator: Estimator | None = None
) -> list[Operation]:
    log: list[Operation] = []
    row = "r0"
    ops: list[Operation] = [Insert(row, frozenset())]
    for index, (column, value) in enumerate(PELE.items()):
        ops.append(Fill(worker, f"r{index}", f"r{index + 1}", column, value, frozenset()))
    for op in ops:
        canonical = table.validate(op)
        table.integrate(canonical)
        if estimator is not None:
            estimator.observe(canonical)
        log.append(canonical)
    return log


def test_a_worker_who_completes_a_row_sees_its_share_at_once() -> None:
    table = CandidateTable(SOCCER_PLAYER)
    estimator = Estimator(table, CompensationSettings(10_000, vote_share=0.2))
    _complete_a_row(table, "solo", estimator)
    # the completed row is blue (score 0, probable): its five values are the solo worker's, and
    # its vote part, which nobody earns, would go to them too when the table completes
    assert estimator.estimate("solo")["total"] == 10_000
    table.close()
    assert estimator.estimate("solo")["total"] == 0  # it never became final: nothing is paid


def test_an_estimator_made_after_a_restart_attributes_the_history_it_is_given() -> None:
    table = CandidateTable(SOCCER_PLAYER)
    log = _complete_a_row(table, "ann")
    chosen = CompensationSettings(1000)
    assert Estimator(table, chosen, history=log).estimate("ann")["total"] == 1000
    # without the history the row is still counted, but nobody is known to have filled it
    without = Estimator(table, chosen)
    assert without.probable_rows() == {("Pelé", "Brazil"): "r5"}
    assert without.estimate("ann")["total"] == 0


def test_a_workers_estimate_includes_the_redistributed_template_values_as_the_settlement_pays() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil"}, {}])
    table = CandidateTable(SOCCER_PLAYER, template=template)
    chosen = CompensationSettings(10_000, growth=1, vote_share=0.2)
    estimator = Estimator(table, chosen)
    log: list[Operation] = []

    def do(op: Operation) -> None:
        canonical = table.validate(op)
        table.integrate(canonical)
        estimator.observe(canonical)
        log.append(canonical)

    do(Insert("t0", frozenset({("nationality", "Brazil")})))
    for index, column in enumerate(["name", "position", "caps", "goals"]):
        do(Fill("ann", f"t{index}", f"t{index + 1}", column, PELE[column], frozenset()))
    do(Upvote("ben", "t4", frozenset()))
    # one of the two template rows is there and the other counts whole; in the present one only
    # ann's four fills (0.64) and ben's vote (0.2) count: the template value's 0.16 is theirs too
    assert estimator.estimate("ann")["total"] == 3478  # 10000 * 0.64 / 1.84, floored
    assert estimator.estimate("ben")["total"] == 1086  # 10000 * 0.2 / 1.84
    do(Insert("e0", frozenset()))
    for index, (column, value) in enumerate(XAVI.items()):
        do(Fill("cal", f"e{index}", f"e{index + 1}", column, value, frozenset()))
    do(Upvote("ben", "e5", frozenset()))
    table.close()
    estimator.conclude(completed=True)
    settlement = settle(table, log, chosen, completed=True)
    assert settlement.paid_cents == 10_000
    totals = {worker: estimator.estimate(worker)["total"] for worker in ("ann", "ben", "cal")}
    assert totals == settlement.payments == {"ann": 3478, "ben": 2174, "cal": 4348}


def test_a_downvote_on_the_probable_row_moves_the_estimate_to_its_rival() -> None:
    table = CandidateTable(SOCCER_PLAYER, Scoring("difference"))
    estimator = Estimator(table, CompensationSettings(1000))

    def do(op: Operation) -> Operation:
        canonical = table.validate(op)
        table.integrate(canonical)
        estimator.observe(canonical)
        return canonical

    for prefix, worker, position in (("a", "ann", "FW"), ("b", "ben", "MF")):
        do(Insert(f"{prefix}0", frozenset()))
        values = {**PELE, "position": position}
        for index, column in enumerate(["position", "name", "nationality", "caps", "goals"]):
            do(Fill(worker, f"{prefix}{index}", f"{prefix}{index + 1}", column, values[column], frozenset()))
    # both complete rows score 1 (one automatic upvote each); the tie-break picks FW
    assert estimator.probable_rows() == {("Pelé", "Brazil"): "a5"}
    do(Downvote("critic", "a1", frozenset()))  # {position: FW}: counts against a5 only
    assert [row.row_id for row in table.final_table()] == ["b5"]
    assert estimator.probable_rows() == {("Pelé", "Brazil"): "b5"}
    assert estimator.estimate("ben")["total"] > 0 == estimator.estimate("ann")["total"]


def test_retracting_downvotes_on_a_part_moves_the_estimate_back_to_the_row_they_sank() -> None:
    table = CandidateTable(SOCCER_PLAYER, Scoring("difference"))
    settings = CompensationSettings(1000)
    estimator = Estimator(table, settings)
    log: list[Operation] = []

    def do(op: Operation) -> None:
        canonical = table.validate(op)
        table.integrate(canonical)
        estimator.observe(canonical)
        log.append(canonical)

    for prefix, worker, position in (("a", "ann", "FW"), ("b", "ben", "MF")):
        do(Insert(f"{prefix}0", frozenset()))
        values = {**PELE, "position": position}
        for index, column in enumerate(["position", "name", "nationality", "caps", "goals"]):
            do(Fill(worker, f"{prefix}{index}", f"{prefix}{index + 1}", column, values[column], frozenset()))
    do(Upvote("fan", "a5", frozenset()))  # FW scores 2, MF 1
    for critic in ("c1", "c2"):
        do(Downvote(critic, "a1", frozenset()))  # {position: FW}: a part with no key
    assert estimator.probable_rows() == {("Pelé", "Brazil"): "b5"}

    for critic in ("c1", "c2"):
        do(Retract(critic, "a1"))

    assert estimator.probable_rows() == {("Pelé", "Brazil"): "a5"}
    assert estimator.probable_rows() == Estimator(table, settings, history=log).probable_rows()
    assert estimator.estimate("ann")["total"] > 0


def test_a_vote_in_one_group_that_moves_another_groups_tied_final_row_moves_its_estimate() -> None:
    schema = Schema((Column("team"), Column("captain", "boolean"), Column("number", "integer")), ("team",))
    template = Template.define(schema, [{"captain": True}, {"number": 1}])
    table = CandidateTable(schema, Scoring(), template)
    estimator = Estimator(table, CompensationSettings(1000))
    log: list[Operation] = []
    rows: dict[str, dict[str, Value]] = {
        "psv-captain": {"team": "psv", "captain": True, "number": 2},
        "psv-one": {"team": "psv", "captain": False, "number": 1},
        "ajax": {"team": "ajax", "captain": True, "number": 3},
    }
    ops: list[Operation] = []
    for row_id, values in rows.items():
        ops.append(Insert(row_id, frozenset(values.items())))
        ops.extend(Upvote(worker, row_id, frozenset()) for worker in (f"{row_id}-a", f"{row_id}-b"))
    for op in ops:
        canonical = table.validate(op)
        table.integrate(canonical)
        estimator.observe(canonical)
        log.append(canonical)
    # The last upvote, on ajax, made psv's number=1 winner final (ajax serves the captain row).
    assert estimator.probable_rows()[("psv",)] == "psv-one"
    assert (
        estimator.probable_rows() == Estimator(table, CompensationSettings(1000), history=log).probable_rows()
    )


@EXAMPLES
@given(histories(), compensation_settings(), st.data())
def test_operations_observed_while_deferring_leave_the_state_observing_each_at_once_leaves(
    history: History, chosen: CompensationSettings, data: st.DataObject
) -> None:
    at_once_table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    deferred_table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    at_once = Estimator(at_once_table, chosen)
    deferred = Estimator(deferred_table, chosen)
    # Defer from some operation on, catch up part of the way at random moments (the table having
    # moved on since), and observe at once again from some later operation.
    start = data.draw(st.integers(0, len(history.log)), label="defer from")
    stop = data.draw(st.integers(start, len(history.log)), label="defer until")
    for index, op in enumerate(history.log):
        if index == start:
            deferred.defer()
        if index == stop:
            deferred.stop_deferring()
        at_once_table.integrate(op)
        at_once.observe(op)
        deferred_table.integrate(op)
        deferred.observe(op)
        if data.draw(st.booleans(), label="catch up some"):
            deferred.catch_up(data.draw(st.integers(0, 3), label="how many"))
    deferred.stop_deferring()
    workers = sorted({op.worker for op in history.log})
    assert deferred.fingerprint() == at_once.fingerprint()  # reads catch up first
    assert deferred.deferred == 0
    assert [deferred.estimate(w) for w in workers] == [at_once.estimate(w) for w in workers]
    assert deferred.probable_rows() == at_once.probable_rows()


class _Pickler(pickle.Pickler):
    """Pickles the settings by reference (the strategy's read-only mappings do not pickle)."""

    def __init__(self, stream: io.BytesIO, kept: object) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self._kept = kept

    def persistent_id(self, obj: object) -> str | None:
        return "kept" if obj is self._kept else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO, kept: object) -> None:
        super().__init__(stream)
        self._kept = kept

    def persistent_load(self, pid: object) -> object:
        assert pid == "kept"
        return self._kept


@EXAMPLES
@given(histories(), compensation_settings(), st.data())
def test_an_estimator_arriving_later_defers_what_it_is_given_meanwhile_and_then_is_the_one_observing_at_once(
    history: History, chosen: CompensationSettings, data: st.DataObject
) -> None:
    at_once_table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    at_once = Estimator(at_once_table, chosen)
    split = data.draw(st.integers(0, len(history.log)), label="restored at")
    for op in history.log[:split]:
        at_once_table.integrate(op)
        at_once.observe(op)
    # What a capture does (crowdfill.server.capture): the table, then the estimator, one memo.
    stream = io.BytesIO()
    pickler = _Pickler(stream, chosen)
    pickler.dump(at_once_table)
    pickler.dump(at_once)
    stream.seek(0)
    unpickler = _Unpickler(stream, chosen)
    table = unpickler.load()
    loads: list[Estimator] = []

    def load() -> Estimator:
        loads.append(unpickler.load())
        return loads[-1]

    arriving = Estimator.arriving(table, load)
    arriving.defer()
    for op in history.log[split:]:
        at_once_table.integrate(op)
        at_once.observe(op)
        table.integrate(op)
        arriving.observe(op)  # deferred while it can be; arrives when it cannot
        if data.draw(st.booleans(), label="catch up some"):
            arriving.catch_up(data.draw(st.integers(0, 3), label="how many"))
    arriving.stop_deferring()
    workers = sorted({op.worker for op in history.log})
    assert arriving.fingerprint() == at_once.fingerprint()  # reads arrive and catch up first
    assert arriving.arrived
    assert len(loads) == 1
    assert [arriving.estimate(w) for w in workers] == [at_once.estimate(w) for w in workers]
    assert arriving.probable_rows() == at_once.probable_rows()


def test_an_estimator_arriving_later_loads_nothing_while_it_only_defers() -> None:
    table = CandidateTable(SOCCER_PLAYER)
    loads: list[str] = []

    def load() -> Estimator:
        loads.append("loaded")
        return Estimator(table, CompensationSettings(1000))

    arriving = Estimator.arriving(table, load)
    arriving.defer()
    for op in (Insert("r1", frozenset()), Fill("ann", "r1", "r2", "name", "Pelé", frozenset())):
        canonical = table.validate(op)
        table.integrate(canonical)
        arriving.observe(canonical)
    assert loads == []
    assert not arriving.arrived
    assert arriving.deferred == 2
    arriving.stop_deferring()
    assert arriving.estimate("ann")["total"] >= 0  # a read: it arrives, then catches up
    assert loads == ["loaded"]
    assert arriving.arrived
    assert arriving.deferred == 0


def test_an_estimator_arriving_with_another_tables_state_refuses_it() -> None:
    table = CandidateTable(SOCCER_PLAYER)
    other = CandidateTable(SOCCER_PLAYER)
    arriving = Estimator.arriving(table, lambda: Estimator(other, CompensationSettings(1000)))
    with pytest.raises(LogMismatch):
        arriving.arrive()


def _observed_twice(ops: list[Operation]) -> tuple[Estimator, Estimator]:
    """An estimator that observed ``ops`` at once, and one that deferred them all (not caught up)."""
    at_once_table, deferred_table = CandidateTable(SOCCER_PLAYER), CandidateTable(SOCCER_PLAYER)
    at_once = Estimator(at_once_table, CompensationSettings(1000))
    deferred = Estimator(deferred_table, CompensationSettings(1000))
    deferred.defer()
    for op in ops:
        canonical = at_once_table.validate(op)
        at_once_table.integrate(canonical)
        at_once.observe(canonical)
        deferred_table.integrate(canonical)
        deferred.observe(canonical)
    deferred.stop_deferring()
    return at_once, deferred


PELE_FILLED_IN: list[Operation] = [
    Insert("r1", frozenset()),
    Fill("ann", "r1", "r2", "name", "Pelé", frozenset()),
    Fill("bob", "r2", "r3", "nationality", "Brazil", frozenset()),
    Fill("cid", "r3", "r4", "caps", 92, frozenset()),
]


def test_a_deferred_operation_whose_work_is_refused_stays_first_and_a_retry_ends_as_observing_at_once_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at_once, deferred = _observed_twice(PELE_FILLED_IN)
    assert deferred.deferred == len(PELE_FILLED_IN)
    touched = deferred._touched
    refusals = ["once"]  # a passing fault

    def misread(op: Operation) -> list[Key]:
        if refusals and deferred.deferred == 2:  # the third operation is seen touching nothing
            refusals.pop()
            return []
        return touched(op)

    monkeypatch.setattr(deferred, "_touched", misread)
    with pytest.raises(LogMismatch):
        deferred.catch_up()
    assert deferred.deferred == len(PELE_FILLED_IN) - 2  # the refused one is still there, first
    assert not deferred.catch_up()
    assert deferred.fingerprint() == at_once.fingerprint()  # not lost, nor counted twice
    assert deferred.estimate("bob") == at_once.estimate("bob")


def test_a_deferred_operation_the_ledger_refuses_is_refused_again_by_every_read() -> None:
    _, deferred = _observed_twice(PELE_FILLED_IN[:3])
    pele = frozenset({("name", "Pelé"), ("nationality", "Brazil")})
    deferred.defer()
    deferred.observe(Retract("cid", "r3", pele))  # no sign: no ledger takes it
    deferred.stop_deferring()
    assert deferred.deferred == 4
    for _ in range(2):
        with pytest.raises(LogMismatch):
            deferred.estimate("bob")
        assert deferred.deferred == 1
