"""Scoring: the safe parametric families and the validation of their parameters."""

from __future__ import annotations

import pytest

from crowdfill.model import InvalidScoring, Scoring

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
    assert [majority.score(2, 0), majority.score(3, 0), majority.score(1, 2), majority.score(2, 2)] == [
        0,
        1,
        -1,
        0,
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


# DESIGN §2 asks for f increasing in u and decreasing in d. With the vote threshold written as
# u + d >= k, that fails for k >= 3 (f(2, 0) = 0 < f(2, 1) = 1) and for weighted scoring with
# unequal weights at k = 2. Changing the formula changes figures other areas rely on, so it is
# left to a decision; these cases are recorded here and will fail loudly once fixed.
NOT_MONOTONE = [
    Scoring("threshold", min_votes=3),
    Scoring("majority", min_votes=3),
    Scoring("weighted", min_votes=2, up_weight=3, down_weight=1),
    Scoring("weighted", min_votes=2, up_weight=1, down_weight=1.5),
]


@pytest.mark.xfail(strict=True, reason="a vote threshold on u + d is not monotone; see the note above")
@pytest.mark.parametrize("scoring", NOT_MONOTONE, ids=lambda s: s.describe())
def test_every_allowed_parameter_choice_is_monotone(scoring: Scoring) -> None:
    assert _monotone(scoring)


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
        "1.5*u - 2*d if u + d >= 1 else 0",
    ]
