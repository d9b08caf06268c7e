"""Table definitions on the wire: the scoring a definition gets when it leaves parts out."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crowdfill.wire.definition import DefinitionModel, DefinitionPatch, ScoringModel

BARE: dict[str, Any] = {"name": "Capitals", "schema": {"columns": [{"name": "country"}]}, "budget_cents": 100}


def test_a_definition_without_scoring_gets_reputation_scoring_with_three_votes() -> None:
    scoring = DefinitionModel.model_validate(BARE).scoring
    assert (scoring.family, scoring.min_votes) == ("reputation", 3)


@pytest.mark.parametrize(
    ("family", "min_votes"),
    [("threshold", 2), ("reputation", 3), ("majority", 2), ("weighted", 2), ("difference", 2)],
)
def test_a_family_without_min_votes_gets_that_familys_vote_gate(family: str, min_votes: int) -> None:
    assert ScoringModel.model_validate({"family": family}).min_votes == min_votes


def test_min_votes_given_is_kept_whatever_the_family() -> None:
    assert ScoringModel.model_validate({"family": "threshold", "min_votes": 4}).min_votes == 4
    assert ScoringModel.model_validate({"min_votes": 1}).model_dump()["family"] == "reputation"
    assert ScoringModel.model_validate({"min_votes": 1}).min_votes == 1


def test_a_patch_naming_only_the_family_gets_that_familys_vote_gate() -> None:
    patch = DefinitionPatch.model_validate({"scoring": {"family": "threshold"}})
    assert patch.scoring is not None
    assert patch.scoring.model_dump(exclude_unset=True) == {"family": "threshold", "min_votes": 2}


def test_an_unknown_family_is_refused_naming_the_families() -> None:
    with pytest.raises(ValidationError, match="reputation"):
        ScoringModel.model_validate({"family": "popularity"})


def test_min_votes_must_be_a_whole_number_even_when_the_family_defaults_it() -> None:
    with pytest.raises(ValidationError, match="min_votes"):
        ScoringModel.model_validate({"family": "threshold", "min_votes": "2"})
