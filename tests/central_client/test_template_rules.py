"""The template rules the central client relies on: refused definitions and protected values."""

from __future__ import annotations

import pytest

from crowdfill.model import CandidateTable, Downvote, Template, TemplateProtected, UnsatisfiableTemplate
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from tests.central_client.support import Driver
from tests.model.support import MESSI


def test_a_template_with_two_rows_fixing_the_same_complete_key_is_refused() -> None:
    rows: list[dict[str, object]] = [
        {"name": "Messi", "nationality": "Argentina", "position": "FW"},
        {"name": "Messi", "nationality": "Argentina", "caps": 83},
    ]

    with pytest.raises(UnsatisfiableTemplate, match="same key"):
        Template.define(SOCCER_PLAYER, rows)


def test_a_template_repeating_a_complete_row_is_refused() -> None:
    with pytest.raises(UnsatisfiableTemplate):
        Template.define(SOCCER_PLAYER, [MESSI, MESSI])


def test_a_template_value_outside_its_column_domain_is_refused() -> None:
    with pytest.raises(UnsatisfiableTemplate, match="position"):
        Template.define(SOCCER_PLAYER, [{"position": "Striker"}])


def test_a_template_value_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(UnsatisfiableTemplate, match="caps"):
        Template.define(SOCCER_PLAYER, [{"caps": "many"}])


def test_repeated_partial_rows_without_a_complete_key_are_accepted() -> None:
    template = Template.define(SOCCER_PLAYER, [{"nationality": "Brazil"}] * 3 + [{}] * 2)

    assert len(template) == 5


def test_workers_cannot_downvote_a_row_holding_only_template_values() -> None:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS))
    driver = Driver(table)
    forward = driver.start()[0].row_id

    with pytest.raises(TemplateProtected):
        table.apply(Downvote("w1", forward, frozenset()))
    assert table.status(forward).value == "blue"


def test_workers_can_downvote_a_template_row_once_it_holds_their_values() -> None:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS))
    driver = Driver(table, close_when_satisfied=False)
    forward = driver.start()[0].row_id
    filled = driver.fill("w1", forward, "name", "Pele")

    driver.downvote("w2", filled)
    driver.downvote("w3", filled)

    assert table.status(filled).value == "red"
    # The forward row lost its row: one new insert serves it, probable on arrival.
    assert driver.client.inserted_count == 4
    assert table.status(driver.inserted[-1].row_id).value == "blue"
