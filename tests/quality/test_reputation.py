"""Worker reputation: a Beta posterior from votes judged by gold rows and the table's outcome."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crowdfill.quality
from crowdfill.model import Column, Schema, Values
from crowdfill.quality import IncrementalEstimates, Outcome, ReputationSettings, estimate_workers, weight_of
from tests.support.imports import imported_modules

SCHEMA = Schema((Column("k", "integer"), Column("v", "integer")), ("k",))
SETTINGS = ReputationSettings()


def _row(k: int, v: int) -> Values:
    return frozenset({("k", k), ("v", v)})


# The final table holds v = 0 for keys 0-2; gold says (3, 1) is right and (3, 2) is wrong.
OUTCOME = Outcome(final=frozenset(_row(k, 0) for k in range(3)), gold={_row(3, 1): True, _row(3, 2): False})

value_sets = st.one_of(
    st.builds(_row, st.integers(0, 4), st.integers(0, 2)),
    st.builds(lambda k: frozenset({("k", k)}), st.integers(0, 4)),
    st.builds(lambda v: frozenset({("v", v)}), st.integers(0, 2)),
)
votes = st.lists(
    st.tuples(st.sampled_from(["w1", "w2", "w3"]), st.sampled_from(["up", "down"]), value_sets), max_size=30
)


@given(votes, st.randoms(use_true_random=False))
def test_the_estimates_depend_on_the_vote_records_not_their_order(
    records: list[tuple[str, str, Values]], rng: random.Random
) -> None:
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert estimate_workers(SCHEMA, records, OUTCOME) == estimate_workers(SCHEMA, shuffled, OUTCOME)
    # A repeated record is the same record: it is not counted twice.
    assert estimate_workers(SCHEMA, records + records, OUTCOME) == estimate_workers(SCHEMA, records, OUTCOME)


@given(
    votes,
    st.sampled_from([("up", _row(0, 0)), ("down", _row(0, 1)), ("up", _row(3, 1)), ("down", _row(3, 2))]),
)
def test_one_more_agreeing_vote_never_lowers_an_estimate(
    records: list[tuple[str, str, Values]], vote: tuple[str, Values]
) -> None:
    before = estimate_workers(SCHEMA, records, OUTCOME).get("w1")
    after = estimate_workers(SCHEMA, [*records, ("w1", *vote)], OUTCOME)["w1"]
    if before is not None and ("w1", *vote) not in records:
        assert after.estimate > before.estimate
        assert after.evidence == before.evidence + 1
    assert after.estimate >= (before.estimate if before else SETTINGS.prior_mean)


@given(
    votes,
    st.sampled_from([("down", _row(0, 0)), ("up", _row(0, 1)), ("down", _row(3, 1)), ("up", _row(3, 2))]),
)
def test_one_more_disagreeing_vote_never_raises_an_estimate(
    records: list[tuple[str, str, Values]], vote: tuple[str, Values]
) -> None:
    before = estimate_workers(SCHEMA, records, OUTCOME).get("w1")
    after = estimate_workers(SCHEMA, [*records, ("w1", *vote)], OUTCOME)["w1"]
    assert after.estimate <= (before.estimate if before else SETTINGS.prior_mean)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_better_estimate_never_earns_a_smaller_weight(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert 0.0 <= weight_of(low) <= weight_of(high) <= SETTINGS.max_weight


def test_a_newcomer_weighs_one_and_a_worker_below_the_floor_weighs_nothing() -> None:
    assert weight_of(SETTINGS.prior_mean) == pytest.approx(1.0)
    assert weight_of(SETTINGS.floor - 0.01) == 0.0
    assert weight_of(0.5) == 0.0


def test_gold_verdicts_are_certain_evidence_and_weigh_more_than_the_outcome() -> None:
    by_gold = estimate_workers(SCHEMA, [("w1", "up", _row(3, 2))], OUTCOME)["w1"]
    by_outcome = estimate_workers(SCHEMA, [("w1", "up", _row(0, 1))], OUTCOME)["w1"]
    assert (by_gold.gold_votes, by_outcome.gold_votes) == (1, 0)
    assert by_gold.wrong == SETTINGS.gold_weight > by_outcome.wrong == SETTINGS.outcome_weight
    assert by_gold.estimate < by_outcome.estimate < SETTINGS.prior_mean


def test_a_downvote_of_part_of_a_true_row_disagrees_and_of_a_rival_value_agrees() -> None:
    estimates = estimate_workers(
        SCHEMA,
        [("w1", "down", frozenset({("v", 0)})), ("w2", "down", _row(1, 2)), ("w3", "down", _row(4, 0))],
        OUTCOME,
    )
    assert estimates["w1"].wrong == 1.0
    assert estimates["w2"].right == 1.0
    assert estimates["w3"].evidence == 0  # nothing is known about key 4
    assert estimates["w3"].estimate == SETTINGS.prior_mean


def test_a_voter_right_half_the_time_falls_below_the_floor_and_a_careful_one_rises() -> None:
    records = []
    for k in range(10):
        for v in range(3):
            right = "up" if v == 0 else "down"
            records.append(("careful", right, _row(k, v)))
            wrong = "down" if right == "up" else "up"
            records.append(("random", right if (k + v) % 2 else wrong, _row(k, v)))
    estimates = estimate_workers(SCHEMA, records, Outcome(final=frozenset(_row(k, 0) for k in range(10))))
    assert weight_of(estimates["random"].estimate) == 0.0
    assert weight_of(estimates["careful"].estimate) == SETTINGS.max_weight
    assert weight_of(estimates["careful"].estimate, ReputationSettings(max_weight=3.0)) > 1.0


@pytest.mark.parametrize(
    "setting",
    [
        {"prior_right": 0.0},
        {"prior_right": 1.0, "prior_wrong": 2.0},
        {"floor": 1.0},
        {"gold_weight": -1.0},
        {"estimator": "oracle"},
    ],
)
def test_settings_that_make_no_sense_are_refused(setting: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must|prior|floor|estimator"):
        ReputationSettings(**setting)


def test_the_package_imports_only_the_standard_library_and_the_model() -> None:
    package = Path(crowdfill.quality.__file__).parent
    for path in package.glob("*.py"):
        for module in imported_modules(path):
            assert module.split(".")[0] in {"__future__", "collections", "dataclasses", "math", "typing"} or (
                module.startswith(("crowdfill.model", "crowdfill.quality"))
            ), f"{path.name} imports {module}"


def test_an_unproven_worker_weighs_at_most_the_cap_until_gold_proves_them_right() -> None:
    from crowdfill.quality.reputation import Estimate, earned_weight

    capped = ReputationSettings(unproven_weight=0.7, proof=1)
    newcomer = Estimate("w", 0.8, 0.0, 0.0, 0, 0, 0)
    proven = Estimate("w", 0.8, 2.0, 0.0, 1, 1, 1)
    assert earned_weight(newcomer, capped) == 0.7
    assert earned_weight(proven, capped) == weight_of(0.8, capped)
    assert earned_weight(newcomer) == weight_of(0.8)


# A state of a table as the estimates see it: vote records, final rows (complete, some sharing
# a key as a gold row does with its group's final row), gold.
states = st.lists(
    st.tuples(
        st.frozensets(
            st.tuples(st.sampled_from(["w1", "w2", "w3"]), st.sampled_from(["up", "down"]), value_sets)
        ),
        st.frozensets(st.builds(_row, st.integers(0, 4), st.integers(0, 2)), max_size=6),
        st.sampled_from([OUTCOME.gold, OUTCOME.gold, {}, {_row(0, 0): False, _row(1, 1): True}]),
    ),
    min_size=1,
    max_size=8,
)


@given(states)
def test_the_incremental_estimates_are_always_those_computed_from_the_whole_state(
    sequence: list[tuple[frozenset[tuple[str, str, Values]], frozenset[Values], dict[Values, bool]]],
) -> None:
    incremental = IncrementalEstimates(SCHEMA, SETTINGS)
    for records, final, gold in sequence:
        expected = estimate_workers(SCHEMA, records, Outcome(final, gold), SETTINGS)
        assert incremental.estimates(records, final, gold) == expected
        assert list(incremental.estimates(records, final, gold)) == list(expected)  # worker order


def test_only_the_outcome_estimator_is_incremental() -> None:
    with pytest.raises(ValueError, match="incremental"):
        IncrementalEstimates(SCHEMA, ReputationSettings(estimator="consensus"))


def test_incremental_estimates_that_failed_midway_start_afresh_rather_than_count_twice() -> None:
    incremental = IncrementalEstimates(SCHEMA, SETTINGS)
    final, gold = OUTCOME.final, OUTCOME.gold
    first = frozenset({("w1", "up", _row(0, 0))})
    more = first | {
        (f"w{k}", kind, _row(k, v)) for k in range(5) for v in range(3) for kind in ("up", "down")
    }
    incremental.estimates(first, final, gold)
    broken: Any = None  # not a value set: judging it raises, after some records were counted
    with pytest.raises(TypeError):
        incremental.estimates(more | {("w9", "up", broken)}, final, gold)
    assert incremental.estimates(more, final, gold) == estimate_workers(SCHEMA, more, OUTCOME, SETTINGS)
