"""The reweighs a table's state calls for: from estimates, in steps, versioned, with exclusions."""

from __future__ import annotations

import random

import pytest

from crowdfill.model import CandidateTable, Insert, InvalidOperation, Retract, Reweigh, Scoring, Value, Values
from crowdfill.quality import ReputationSettings, ReweighTracker, due_reweighs, table_estimates, weight_of
from tests.model.support import MESSI, RONALDINHO_FW, RONALDINHO_MF, Builder, soccer_table, values

RAISING = ReputationSettings(max_weight=2.0)


def _table() -> tuple[CandidateTable, Builder]:
    """Ronaldinho MF is final (w1, w2, w3 upvote it); w9 upvotes the rival FW row and downvotes MF."""
    table = soccer_table(Scoring("reputation"))
    build = Builder(table)
    mf = build.row_with("w1", RONALDINHO_MF)
    for worker in ("w2", "w3"):
        build.upvote(worker, mf)
    build.row_with("w9", RONALDINHO_FW)
    messi = build.row_with("w9", MESSI)
    build.upvote("w1", messi)
    build.downvote("w9", mf)
    return table, build


def test_workers_are_reweighed_by_their_agreement_with_the_outcome_once_it_moves_a_step() -> None:
    table, _ = _table()
    estimates = table_estimates(table)
    assert estimates["w9"].estimate < ReputationSettings().prior_mean < estimates["w1"].estimate
    due = {op.worker: op for op in due_reweighs(table, settings=RAISING)}
    # w1 agreed twice, w9 disagreed three times; w2 and w3 agreed once: less than a step from 1.
    assert sorted(due) == ["w1", "w9"]
    assert due["w9"].weight == round(weight_of(estimates["w9"].estimate, RAISING), 3) < 1.0 < due["w1"].weight
    assert 0 < weight_of(estimates["w2"].estimate, RAISING) - 1.0 < 0.25
    # By default weights are capped at 1: agreeing workers are not raised, only others lowered.
    assert [op.worker for op in due_reweighs(table)] == ["w9"]
    assert {op.version for op in due.values()} == {1}


def test_reweighing_settles_and_an_exclusion_is_a_reweigh_to_zero_one_version_up() -> None:
    table, _ = _table()
    rounds = 0
    # A reweigh can change the final table and so the estimates: w9 loses weight, their rows lose
    # their votes, and they disagree with more of the outcome. It settles within a few rounds.
    while due := due_reweighs(table):
        rounds += 1
        assert rounds < 5
        for op in due:
            table.integrate(op)
    assert table.weight("w9") == 0.0
    held = {op.worker: op.version for op in table.reweighs()}
    excluded = due_reweighs(table, excluded=frozenset({"w1", "w2"}))
    assert {(op.worker, op.weight, op.version) for op in excluded} == {
        ("w1", 0.0, held.get("w1", 0) + 1),
        ("w2", 0.0, held.get("w2", 0) + 1),
    }


def test_a_vote_on_a_gold_row_judges_the_voter_more_than_the_outcome_does() -> None:
    table, _ = _table()
    plain = table_estimates(table)["w1"]
    # w1 also upvoted Messi, a complete row the requester knows is wrong.
    judged = table_estimates(table, gold={values(MESSI): False})["w1"]
    assert judged.gold_votes == 1
    assert judged.estimate < plain.estimate


def test_the_same_table_state_calls_for_the_same_reweighs() -> None:
    first, _ = _table()
    second, _ = _table()
    assert due_reweighs(first) == due_reweighs(second)
    assert all(isinstance(op, Reweigh) for op in due_reweighs(first))


NAMES = ("Messi", "Neymar", "Kaka")
NATIONS = ("Brazil", "Argentina")
CELLS: dict[str, tuple[Value, ...]] = {
    "name": NAMES,
    "nationality": NATIONS,
    "position": ("FW", "MF"),
    "caps": (1, 2),
    "goals": (0, 1),
}
GOLD_ROWS: tuple[dict[str, Value], ...] = (
    {"name": "Messi", "nationality": "Argentina", "position": "FW", "caps": 1, "goals": 0},
    {"name": "Kaka", "nationality": "Brazil", "position": "MF", "caps": 2, "goals": 1},
)


def _random_step(build: Builder, rnd: random.Random) -> None:
    """One operation a crowd might send, chosen at random; one the table refuses changes nothing."""
    table = build.table
    worker = f"w{rnd.randrange(4)}"
    rows = table.rows()
    choice = rnd.random()
    try:
        if choice < 0.1 or not rows:
            build.insert()
        elif choice < 0.6:
            row = rnd.choice(rows)
            empty = [name for name in CELLS if name not in dict(row.values)]
            if empty:
                column = rnd.choice(empty)
                build.fill(worker, row.row_id, column, rnd.choice(CELLS[column]))
        elif choice < 0.75:
            build.upvote(worker, rnd.choice(rows).row_id)
        elif choice < 0.9:
            build.downvote(worker, rnd.choice(rows).row_id)
        else:
            build.apply(Retract(worker, rnd.choice(rows).row_id))
    except InvalidOperation:
        pass  # refused (a second vote, a retract of nothing...): the table is unchanged


@pytest.mark.parametrize("seed", range(100))
def test_the_tracker_decides_exactly_the_reweighs_of_the_full_recomputation(seed: int) -> None:
    rnd = random.Random(seed)
    table = soccer_table(Scoring("reputation"))
    build = Builder(table)
    gold: dict[Values, bool] = {}
    for verdict, row in zip((True, False), GOLD_ROWS, strict=True):
        if rnd.random() < 0.7:
            build.apply(Insert(build.new_id(), values(row), gold=True))
            gold[values(row)] = verdict
    settings = rnd.choice([ReputationSettings(), RAISING, ReputationSettings(unproven_weight=0.5)])
    tracker = ReweighTracker(settings, step=0.1)
    for _ in range(150):
        for _ in range(rnd.randrange(1, 6)):
            _random_step(build, rnd)
        excluded = table.excluded_workers()
        due = tracker.due(table, gold, excluded)
        assert due == due_reweighs(table, gold, settings, 0.1, excluded)
        for op in due:  # sequenced, as the emitter's are
            if rnd.random() < 0.8:
                table.integrate(op)
        if rnd.random() < 0.03:
            worker = f"w{rnd.randrange(4)}"
            version = {op.worker: op.version for op in table.reweighs()}.get(worker, 0) + 1
            table.integrate(Reweigh(worker, 0.0, version, excluded=True))
