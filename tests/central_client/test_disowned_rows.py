"""A partial row the voters took for wrong serves no template row: the client inserts a fresh one.

Under a strict gate the downvotes on a wrong partial row may never reach it (honest downvoters
weigh under 1, and whoever downvoted a complete row containing it may not downvote it again), so it
would stay probable at score 0 and hold its template row while nobody fills it: the table stalls.
"""

from __future__ import annotations

from crowdfill.model import CandidateTable, Insert, Reweigh, Scoring, Template, Value, values_from_mapping
from crowdfill.model.examples import SOCCER_PLAYER
from tests.central_client.support import Driver

MESSI: dict[str, Value] = {"name": "Messi", "nationality": "Argentina"}
MESSI_GROUP = ("key", ("Messi", "Argentina"))


def driven(scoring: Scoring) -> tuple[Driver, str]:
    """A table with the template row Messi, filled by w1 with a wrong position (a partial row)."""
    table = CandidateTable(SOCCER_PLAYER, scoring, Template.define(SOCCER_PLAYER, [MESSI]))
    driver = Driver(table)
    (template_row,) = driver.start()
    wrong = driver.fill("w1", template_row.row_id, "position", "GK")
    return driver, wrong


def test_a_partial_row_nobody_has_downvoted_still_serves_its_template_row() -> None:
    driver, wrong = driven(Scoring("reputation", min_votes=4))

    assert driver.client.inserted_count == 1
    assert driver.client.matching() == {0: MESSI_GROUP}
    assert not driver.table.disowned(wrong)


def test_a_downvoted_partial_row_below_the_gate_gets_a_fresh_template_row_beside_it() -> None:
    driver, wrong = driven(Scoring("reputation", min_votes=4))
    driver.downvote("w2", wrong)
    driver.downvote("w3", wrong)

    table = driver.table
    assert table.score(wrong) == 0, "two downvotes do not reach a gate of 4"
    assert table.status(wrong).probable
    assert table.disowned(wrong)
    assert driver.client.inserted_count == 2
    fresh = driver.inserted[-1]
    assert dict(fresh.values) == MESSI
    assert table.group_of(fresh.row_id) == MESSI_GROUP
    assert driver.client.matching() == {0: MESSI_GROUP}


def test_the_fresh_row_is_inserted_once_however_many_more_downvotes_follow() -> None:
    driver, wrong = driven(Scoring("reputation", min_votes=4))
    for worker in ("w2", "w3", "w4", "w5", "w6"):
        driver.downvote(worker, wrong)

    assert driver.client.inserted_count == 2


def test_downvoters_at_weight_zero_disown_nothing() -> None:
    driver, wrong = driven(Scoring("reputation", min_votes=4))
    for worker in ("w2", "w3"):
        assert driver.client.observe(driver.table.integrate(Reweigh(worker, 0.0, 1))) == []
    driver.downvote("w2", wrong)
    driver.downvote("w3", wrong)

    assert not driver.table.disowned(wrong)
    assert driver.client.inserted_count == 1


def complete_wrong_row(driver: Driver, partial: str) -> str:
    row = partial
    for column, value in (("caps", 1), ("goals", 1)):
        row = driver.fill("w1", row, column, value)
    return row


def test_a_complete_row_a_few_voters_judged_still_serves_its_template_row() -> None:
    driver, partial = driven(Scoring("reputation", min_votes=4))
    row = complete_wrong_row(driver, partial)
    driver.downvote("w2", row)
    driver.downvote("w3", row)

    assert driver.table.schema.is_complete(driver.table.row(row).values)
    assert not driver.table.disowned(row)
    assert driver.client.inserted_count == 1


def test_a_complete_row_nobody_downvoted_is_not_contested_however_many_upvote_it() -> None:
    driver, partial = driven(Scoring("reputation", min_votes=4))
    row = complete_wrong_row(driver, partial)
    for worker in ("u2", "u3", "u4", "u5", "u6"):
        assert driver.client.observe(driver.table.integrate(Reweigh(worker, 0.5, 1))) == []
        driver.upvote(worker, row)

    assert driver.table.score(row) == 0
    assert not driver.table.disowned(row)
    assert driver.client.inserted_count == 1


def satisfied_driver(close_when_satisfied: bool) -> Driver:
    """The Messi template row filled with a complete row and upvoted past the gate: satisfied."""
    table = CandidateTable(
        SOCCER_PLAYER, Scoring("reputation", min_votes=2), Template.define(SOCCER_PLAYER, [MESSI])
    )
    driver = Driver(table, close_when_satisfied=close_when_satisfied)
    (template_row,) = driver.start()
    row = template_row.row_id
    for column, value in (("position", "FW"), ("caps", 83), ("goals", 37)):
        row = driver.fill("w1", row, column, value)
    driver.upvote("w2", row)
    assert driver.client.satisfied
    return driver


def test_once_it_closed_a_satisfied_table_the_client_hands_back_no_insert_it_planned() -> None:
    # Every final row is probable and serves no fewer template rows there, so today's rules never
    # plan an insert on a satisfied table; the guard keeps a planned one from meeting the closed table.
    driver = satisfied_driver(close_when_satisfied=True)
    planned = [Insert("late", values_from_mapping(MESSI))]

    assert driver.table.closed
    assert driver.client._finish(planned) == []


def test_a_client_that_does_not_close_hands_back_what_it_planned_on_a_satisfied_table() -> None:
    driver = satisfied_driver(close_when_satisfied=False)
    planned = [Insert("late", values_from_mapping(MESSI))]

    assert not driver.table.closed
    assert driver.client._finish(planned) == planned
