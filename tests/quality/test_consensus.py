"""The consensus estimator: a one-coin Dawid-Skene estimate of voters from their votes and gold."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model import Column, Schema, Values
from crowdfill.quality import Outcome, ReputationSettings, estimate_workers, weight_of

SCHEMA = Schema((Column("k", "integer"), Column("v", "integer")), ("k",))
CONSENSUS = ReputationSettings(estimator="consensus")


def _row(k: int, v: int) -> Values:
    return frozenset({("k", k), ("v", v)})


# Gold says (3, 1) is right and (3, 2) is wrong; nothing is said of keys 0-2.
GOLD = Outcome(gold={_row(3, 1): True, _row(3, 2): False})

value_sets = st.one_of(
    st.builds(_row, st.integers(0, 3), st.integers(0, 2)),
    st.builds(lambda k: frozenset({("k", k)}), st.integers(0, 3)),
)
votes = st.lists(
    st.tuples(st.sampled_from(["w1", "w2", "w3"]), st.sampled_from(["up", "down"]), value_sets), max_size=25
)


def _estimates(records: list[tuple[str, str, Values]], outcome: Outcome = GOLD) -> dict[str, float]:
    return {w: e.estimate for w, e in estimate_workers(SCHEMA, records, outcome, CONSENSUS).items()}


@settings(max_examples=60, deadline=None)
@given(votes, st.randoms(use_true_random=False))
def test_consensus_estimates_depend_on_the_vote_records_not_their_order(
    records: list[tuple[str, str, Values]], rng: random.Random
) -> None:
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert _estimates(records) == _estimates(shuffled)
    assert _estimates(records + records) == _estimates(records)


@settings(max_examples=60, deadline=None)
@given(votes, st.sampled_from([("up", _row(3, 1)), ("down", _row(3, 2)), ("down", _row(3, 0))]))
def test_one_more_vote_that_gold_proves_right_never_lowers_a_consensus_estimate(
    records: list[tuple[str, str, Values]], vote: tuple[str, Values]
) -> None:
    before = _estimates(records).get("w1", CONSENSUS.prior_mean)
    assert _estimates([*records, ("w1", *vote)])["w1"] >= before - 1e-12


@settings(max_examples=60, deadline=None)
@given(votes, st.sampled_from([("down", _row(3, 1)), ("up", _row(3, 2)), ("up", _row(3, 0))]))
def test_one_more_vote_that_gold_proves_wrong_never_raises_a_consensus_estimate(
    records: list[tuple[str, str, Values]], vote: tuple[str, Values]
) -> None:
    before = _estimates(records).get("w1", CONSENSUS.prior_mean)
    assert _estimates([*records, ("w1", *vote)])["w1"] <= before + 1e-12


def test_a_ring_voting_against_the_majority_falls_below_the_floor_without_any_final_table() -> None:
    records = []
    for k in range(5):
        for honest in ("h1", "h2", "h3", "h4"):
            records += [(honest, "up", _row(k, 0)), (honest, "down", _row(k, 1))]
        for member in ("r1", "r2", "r3"):
            records += [(member, "up", _row(k, 1)), (member, "down", _row(k, 0))]
    # The outcome estimator sees no final table, so it learns nothing; the consensus does.
    assert set(_estimates(records, Outcome()).values()) != {CONSENSUS.prior_mean}
    estimates = _estimates(records, Outcome())
    assert weight_of(estimates["r1"], CONSENSUS) == 0.0
    assert estimates["h1"] > CONSENSUS.prior_mean
    outcome_only = estimate_workers(SCHEMA, records, Outcome(), ReputationSettings(estimator="outcome"))
    assert {e.estimate for e in outcome_only.values()} == {ReputationSettings().prior_mean}


def test_gold_outweighs_a_majority_and_counts_its_votes_as_gold() -> None:
    # Three voters call (3, 2) right; gold says it is wrong, so they are the ones judged wrong.
    records = [(w, "up", _row(3, 2)) for w in ("w1", "w2", "w3")] + [("w4", "up", _row(3, 1))]
    found = estimate_workers(SCHEMA, records, GOLD, CONSENSUS)
    assert found["w1"].gold_votes == found["w4"].gold_votes == 1
    assert found["w1"].estimate < CONSENSUS.prior_mean < found["w4"].estimate


def test_votes_on_rows_without_a_complete_key_are_no_evidence() -> None:
    found = estimate_workers(SCHEMA, [("w1", "down", frozenset({("v", 0)}))], GOLD, CONSENSUS)
    assert found["w1"].evidence == 0
    assert found["w1"].estimate == CONSENSUS.prior_mean
