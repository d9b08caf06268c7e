"""Compensation settings are validated when made and read exactly as written."""

from __future__ import annotations

from fractions import Fraction

import pytest

from crowdfill.compensation import CompensationSettings, InvalidCompensation
from crowdfill.model import InvalidDefinition
from crowdfill.model.examples import SOCCER_PLAYER


def test_the_defaults_are_growth_one_point_one_equal_weights_and_a_fifth_for_votes() -> None:
    settings = CompensationSettings(500)
    assert settings.growth_fraction == Fraction(11, 10)
    assert settings.vote_fraction == Fraction(1, 5)
    assert settings.column_parts(SOCCER_PLAYER) == dict.fromkeys(SOCCER_PLAYER.names, Fraction(4, 25))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget_cents": -1}, "between 0"),
        ({"budget_cents": 1.5}, "whole number"),
        ({"budget_cents": True}, "whole number"),
        ({"budget_cents": 10**13}, "between 0"),
        ({"budget_cents": 1, "growth": 0.9}, "growth"),
        ({"budget_cents": 1, "growth": float("nan")}, "finite"),
        ({"budget_cents": 1, "growth": "2"}, "number"),
        ({"budget_cents": 1, "vote_share": 1.5}, "vote_share"),
        ({"budget_cents": 1, "column_weights": {"name": -1}}, "weight of column 'name'"),
        ({"budget_cents": 1, "column_weights": {"name": float("inf")}}, "finite"),
        ({"budget_cents": 1, "column_weights": ["name"]}, "mapping"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_the_problem(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidCompensation, match=message) as error:
        CompensationSettings(**kwargs)  # type: ignore[arg-type]  # deliberately wrong types
    assert isinstance(error.value, InvalidDefinition)
    assert error.value.code == "invalid_compensation"


def test_weights_for_columns_the_schema_does_not_have_are_refused() -> None:
    settings = CompensationSettings(100, column_weights={"shoe_size": 2})
    with pytest.raises(InvalidCompensation, match="shoe_size"):
        settings.column_parts(SOCCER_PLAYER)


def test_all_zero_weights_are_refused() -> None:
    settings = CompensationSettings(100, column_weights=dict.fromkeys(SOCCER_PLAYER.names, 0))
    with pytest.raises(InvalidCompensation, match="positive"):
        settings.column_parts(SOCCER_PLAYER)


def test_column_parts_follow_the_weights_and_missing_columns_weigh_one() -> None:
    settings = CompensationSettings(100, column_weights={"name": 3, "caps": 0.5}, vote_share=0.25)
    parts = settings.column_parts(SOCCER_PLAYER)
    assert parts["name"] == Fraction(3, 4) * 3 / Fraction(13, 2)
    assert parts["caps"] == Fraction(3, 4) * Fraction(1, 2) / Fraction(13, 2)
    assert sum(parts.values()) == Fraction(3, 4)


def test_settings_round_trip_through_json_shaped_dicts() -> None:
    settings = CompensationSettings(2500, growth=1.25, column_weights={"goals": 2}, vote_share=0.1)
    assert CompensationSettings.from_dict(settings.to_dict()) == settings


def test_from_dict_refuses_unknown_fields_and_a_missing_budget() -> None:
    with pytest.raises(InvalidCompensation, match="unknown"):
        CompensationSettings.from_dict({"budget_cents": 1, "bonus": 3})
    with pytest.raises(InvalidCompensation, match="budget_cents"):
        CompensationSettings.from_dict({"growth": 1.2})
