"""Scoring: the safe parametric families and the validation of their parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdfill.model import InvalidScoring, Scoring
from crowdfill.model.scoring import Family

FAMILIES = [
    Scoring(),
    Scoring("difference"),
    Scoring("majority", min_votes=2),
    Scoring("weighted", min_votes=1, up_weight=1.5, down_weight=2),
    Scoring("weighted", min_votes=2, up_weight=2, down_weight=2),
    Scoring("threshold", min_votes=0),
    Scoring("threshold", min_votes=1),
]


def test_the_default_is_the_papers_u_minus_d_once_there_are_two_votes() -> None:
    scoring = Scoring()
    assert [scoring.score(1, 0), scoring.score(0, 1), scoring.score(2, 0), scoring.score(2, 1)] == [
        0,
        0,
        2,
        1,
    ]
    assert scoring.score(0, 2) == -2
    assert scoring.describe() == "u - d if u + d >= 2 else 0"


def test_each_family_scores_as_documented() -> None:
    assert Scoring("difference").score(1, 0) == 1
    assert Scoring("difference").score(3, 5) == -2
    majority = Scoring("majority", min_votes=3)
    assert [majority.score(2, 0), majority.score(3, 0), majority.score(1, 2), majority.score(1, 3)] == [
        0,
        1,
        0,
        -1,
    ]
    weighted = Scoring("weighted", min_votes=1, up_weight=1.5, down_weight=2)
    assert weighted.score(2, 1) == 1.0
    assert weighted.score(0, 0) == 0


def _monotone(scoring: Scoring, limit: int = 25) -> bool:
    return all(
        scoring.score(up + 1, down) >= scoring.score(up, down) >= scoring.score(up, down + 1)
        for up in range(limit)
        for down in range(limit)
    )


@pytest.mark.parametrize("scoring", FAMILIES, ids=lambda s: s.describe())
def test_these_families_are_zero_at_no_votes_and_monotone(scoring: Scoring) -> None:
    assert scoring.score(0, 0) == 0
    assert _monotone(scoring)


@given(
    family=st.sampled_from(["threshold", "difference", "majority", "weighted"]),
    min_votes=st.integers(min_value=0, max_value=8),
    up_weight=st.floats(min_value=0.01, max_value=1000),
    down_weight=st.floats(min_value=0.01, max_value=1000),
)
def test_every_allowed_parameter_choice_is_zero_at_no_votes_and_monotone(
    family: Family, min_votes: int, up_weight: float, down_weight: float
) -> None:
    scoring = Scoring(family, min_votes, up_weight, down_weight)
    assert scoring.score(0, 0) == 0
    assert _monotone(scoring, limit=12)


def test_a_downvote_never_raises_a_score_even_with_a_high_vote_threshold() -> None:
    # Gating on u + d >= 3 would score (2, 0) as 0 and (2, 1) as 1.
    strict = Scoring("threshold", min_votes=3)
    assert strict.score(2, 0) == 0
    assert strict.score(2, 1) == 0
    assert strict.score(3, 1) == 2


@pytest.mark.parametrize("up", range(6))
@pytest.mark.parametrize("down", range(6))
def test_the_default_is_the_papers_u_minus_d_once_two_votes_are_cast(up: int, down: int) -> None:
    papers = up - down if up + down >= 2 else 0
    assert Scoring().score(up, down) == papers


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"family": "python"}, "unknown scoring family"),
        ({"min_votes": -1}, "between 0 and 1000"),
        ({"min_votes": 1001}, "between 0 and 1000"),
        ({"min_votes": 2.5}, "whole number"),
        ({"min_votes": True}, "whole number"),
        ({"family": "weighted", "up_weight": 0}, "greater than 0"),
        ({"family": "weighted", "down_weight": -1}, "greater than 0"),
        ({"family": "weighted", "up_weight": float("nan")}, "greater than 0"),
        ({"family": "weighted", "up_weight": "1"}, "must be a number"),
        ({"family": "weighted", "down_weight": False}, "must be a number"),
    ],
)
def test_bad_scoring_parameters_are_refused_with_a_reason(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidScoring, match=message):
        Scoring(**arguments)  # type: ignore[arg-type]  # deliberately bad requester input


def test_every_family_describes_itself_without_code() -> None:
    assert [s.describe() for s in FAMILIES[:4]] == [
        "u - d if u + d >= 2 else 0",
        "u - d",
        "sign(u - d) if u + d >= 2 else 0",
        "1.5*u - 2*d",
    ]
    assert Scoring("threshold", min_votes=3).describe() == (
        "u - d, positive only once u >= 3 and negative only once d >= 3, else 0"
    )


@given(st.floats(0, 50), st.floats(0, 50), st.integers(0, 5))
def test_reputation_scores_weighted_sums_as_threshold_scores_counts(up: float, down: float, k: int) -> None:
    reputation, threshold = Scoring("reputation", min_votes=k), Scoring("threshold", min_votes=k)
    assert reputation.score(up, down) == threshold.score(up, down)
    assert reputation.score(round(up), round(down)) == threshold.score(round(up), round(down))
    assert "weighted by reputation" in reputation.describe()
