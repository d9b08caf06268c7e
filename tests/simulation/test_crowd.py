"""The simulated crowd: knowledge, accuracy and mistakes."""

from __future__ import annotations

import random

import pytest

from crowdfill.model import Column, Schema
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.simulation.crowd import CrowdSettings, answer, make_crowd, mistake
from crowdfill.simulation.truth import Truth, generate_soccer_truth

TRUTH = generate_soccer_truth(30, random.Random(0))


@pytest.mark.parametrize("name", ["name", "nationality", "position", "caps", "goals"])
def test_a_mistake_is_a_different_value_that_the_column_accepts(name: str) -> None:
    column = SOCCER_PLAYER.column(name)
    rng = random.Random(5)
    for row in TRUTH.rows:
        right = dict(row)[name]
        wrong = mistake(column, right, TRUTH, rng)
        assert wrong != right
        assert column.normalise(wrong) == wrong


@pytest.mark.parametrize(
    ("column", "right"),
    [(Column("when", "date"), "2020-02-29"), (Column("ok", "boolean"), True), (Column("x", "number"), 2.5)],
)
def test_mistakes_of_dates_booleans_and_numbers_stay_in_their_type(column: Column, right: object) -> None:
    assert isinstance(right, str | bool | float)
    truth = Truth(Schema((column,)), (frozenset({(column.name, right)}),))
    wrong = mistake(column, right, truth, random.Random(1))
    assert wrong != right
    assert column.normalise(wrong) == wrong


def test_a_perfectly_accurate_worker_always_answers_right_and_a_hopeless_one_never_does() -> None:
    column = SOCCER_PLAYER.column("caps")
    rng = random.Random(2)
    assert all(answer(column, 40, 1.0, TRUTH, rng) == 40 for _ in range(200))
    assert all(answer(column, 40, 0.0, TRUTH, rng) != 40 for _ in range(200))


def test_the_crowd_is_fixed_by_its_seed_and_follows_the_settings() -> None:
    settings = CrowdSettings(workers=15, knowledge=(0.2, 0.4), accuracy=(0.6, 0.8))
    crowd = make_crowd(TRUTH, settings, random.Random(9))
    assert crowd == make_crowd(TRUTH, settings, random.Random(9))
    assert [profile.worker for profile in crowd][:2] == ["w01", "w02"]
    assert len(crowd) == 15
    for profile in crowd:
        assert 0.6 <= profile.accuracy <= 0.8
        assert 6 <= len(profile.known) <= 12
        assert set(profile.known) <= set(TRUTH.rows)


@pytest.mark.parametrize(
    "changes",
    [
        {"workers": 0},
        {"accuracy": (0.9, 0.5)},
        {"knowledge": (0.0, 1.5)},
        {"mix": (0.0, 0.0, 0.0)},
        {"think": 0.0},
    ],
)
def test_impossible_crowd_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        CrowdSettings(**changes)  # type: ignore[arg-type]  # deliberately wrong values
