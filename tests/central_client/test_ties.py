"""The central client agrees with the model's tie-break: satisfied when some tied winner serves."""

from __future__ import annotations

from crowdfill.model import CandidateTable, Column, Schema, Scoring, Template, Value
from tests.central_client import oracle
from tests.central_client.support import Driver

SCHEMA = Schema(
    (Column("team"), Column("captain", "boolean"), Column("number", "integer")),
    ("team",),
)


def seeded(driver: Driver, values: dict[str, Value], *voters: str) -> str:
    row_id = driver.seed(values)
    driver.seed_upvotes(row_id, *voters)
    return row_id


def test_a_tie_whose_non_canonical_winner_serves_the_template_satisfies_it() -> None:
    table = CandidateTable(SCHEMA, Scoring(), Template.define(SCHEMA, [{"captain": True}]))
    driver = Driver(table)
    seeded(driver, {"team": "ajax", "captain": False, "number": 1}, "w1", "w2")
    serving = seeded(driver, {"team": "ajax", "captain": True, "number": 1}, "w3", "w4")
    assert driver.start() == []
    assert driver.client.satisfied
    assert driver.client.satisfaction() == {0: serving}
    assert table.closed


def test_the_client_follows_a_choice_that_moves_with_a_vote_in_another_group() -> None:
    template = Template.define(SCHEMA, [{"captain": True}, {"number": 1}])
    table = CandidateTable(SCHEMA, Scoring(), template)
    driver = Driver(table, close_when_satisfied=False)
    seeded(driver, {"team": "psv", "captain": True, "number": 2}, "w1", "w2")
    number = seeded(driver, {"team": "psv", "captain": False, "number": 1}, "w3", "w4")
    driver.start()
    assert not driver.client.satisfied  # one group cannot serve two template rows
    ajax = driver.fill("w5", driver.seed({"team": "ajax", "captain": True}), "number", 3)
    driver.upvote("w6", ajax)
    assert driver.client.satisfied == oracle.final_satisfies(table) == oracle.some_tie_choice_satisfies(table)
    assert driver.client.satisfied
    satisfaction = driver.client.satisfaction()
    assert satisfaction is not None
    assert sorted(satisfaction.values()) == sorted([ajax, number])


def test_satisfaction_names_rows_the_table_chose_even_when_the_client_matched_another_winner() -> None:
    template = Template.define(SCHEMA, [{"captain": True}, {"number": 1}])
    table = CandidateTable(SCHEMA, Scoring(), template)
    driver = Driver(table, close_when_satisfied=False)
    seeded(driver, {"team": "psv", "captain": True, "number": 2}, "w1", "w2")
    number = seeded(driver, {"team": "psv", "captain": False, "number": 1}, "w3", "w4")
    driver.start()
    # ajax serves both template rows; the table gives it the first and psv the second, whichever
    # winner of psv the client's own matching used.
    ajax = driver.fill("w5", driver.seed({"team": "ajax", "captain": True}), "number", 1)
    driver.upvote("w6", ajax)
    assert driver.client.satisfied
    assert driver.client.satisfaction() == {0: ajax, 1: number}
