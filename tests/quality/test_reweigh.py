"""The reweighs a table's state calls for: from estimates, in steps, versioned, with exclusions."""

from __future__ import annotations

from crowdfill.model import CandidateTable, Reweigh, Scoring
from crowdfill.quality import ReputationSettings, due_reweighs, table_estimates, weight_of
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
