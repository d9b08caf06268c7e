"""A key-fixing template row whose group holds a wrong green row waits for votes, without looping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crowdfill.model import CandidateTable, Template, Value
from crowdfill.model.examples import SOCCER_PLAYER
from tests.central_client.support import Driver

MESSI_FW: dict[str, Value] = {"name": "Messi", "nationality": "Argentina", "position": "FW"}
MESSI_MF: dict[str, Value] = {
    "name": "Messi",
    "nationality": "Argentina",
    "position": "MF",
    "caps": 1,
    "goals": 1,
}


def table_with(rows: Sequence[Mapping[str, object]]) -> CandidateTable:
    return CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, rows))


def test_a_key_fixing_row_behind_a_wrong_green_row_waits_for_votes_instead_of_inserting() -> None:
    table = table_with([MESSI_FW])
    driver = Driver(table)
    wrong = driver.seed(MESSI_MF)
    driver.seed_upvotes(wrong, "w1", "w2")

    assert driver.start() == []
    assert driver.client.waiting_for_votes() == [0]
    assert driver.client.matching() == {}
    assert driver.client.observe([]) == []
    assert driver.client.start() == []
    assert driver.client.inserted_count == 0


def test_once_workers_downvote_the_wrong_row_the_template_row_is_served_again() -> None:
    table = table_with([MESSI_FW])
    driver = Driver(table)
    wrong = driver.seed(MESSI_MF)
    driver.seed_upvotes(wrong, "w1", "w2")
    driver.start()

    driver.downvote("w3", wrong)
    assert driver.client.waiting_for_votes() == [0], "score 1 still beats the insert's 0"
    driver.downvote("w4", wrong)
    driver.downvote("w5", wrong)

    assert table.score(wrong) < 0
    assert driver.client.waiting_for_votes() == []
    assert driver.client.inserted_count == 1
    (insert,) = driver.inserted
    assert dict(insert.values) == MESSI_FW
    assert table.status(insert.row_id).value == "blue"
    assert driver.client.matching() == {0: ("key", ("Messi", "Argentina"))}


def test_a_tie_with_the_best_row_of_the_group_is_enough_for_an_insert() -> None:
    table = table_with([MESSI_FW])
    driver = Driver(table)
    driver.seed(MESSI_MF)  # blue: score 0, no votes yet

    (insert,) = driver.start()

    assert table.status(insert.row_id).value == "blue"
    assert driver.client.waiting_for_votes() == []


def test_a_wrong_row_grown_from_another_template_rows_insert_makes_no_insert_loop() -> None:
    table = table_with([MESSI_FW, {}])
    driver = Driver(table)
    exact, empty = (insert.row_id for insert in driver.start())
    row = empty
    for column, value in MESSI_MF.items():
        row = driver.fill("w1", row, column, value)
    driver.upvote("w2", row)

    assert table.status(exact).value == "yellow"
    assert driver.client.waiting_for_votes() == [0]
    assert sorted(driver.client.matching()) == [1]
    # The key-fixing row took the Messi group as soon as the filled row joined it, so the empty
    # template row got one more insert then; the wrong green row itself caused none.
    assert driver.client.inserted_count == 3
    for _ in range(5):
        assert driver.client.observe([]) == []
    for worker in ("w3", "w4", "w5"):
        driver.downvote(worker, row)

    # The first insert is blue again and serves the key-fixing row, with no new insert.
    assert table.status(exact).value == "blue"
    assert driver.client.waiting_for_votes() == []
    assert driver.client.matching()[0] == ("key", ("Messi", "Argentina"))
    assert sorted(driver.client.matching()) == [0, 1]
    assert driver.client.inserted_count == 3


def test_a_key_fixing_row_takes_its_group_from_a_row_that_can_be_served_elsewhere() -> None:
    table = table_with([{}, MESSI_FW])
    driver = Driver(table)
    blue = driver.seed({**MESSI_FW, "caps": 3})  # could serve either template row; only the second needs it
    driver.seed({"name": "Xavi"})

    assert driver.start() == []
    assert driver.client.matching() == {0: ("row", "r2"), 1: ("key", ("Messi", "Argentina"))}
    assert table.status(blue).probable


def test_a_key_fixing_insert_that_takes_a_shared_group_also_inserts_for_the_row_it_displaces() -> None:
    table = table_with([{"position": "FW"}, {**MESSI_FW, "caps": 3}])
    driver = Driver(table)
    driver.seed({**MESSI_FW, "caps": 4})  # blue, serves only the forward row

    inserts = driver.start()

    assert sorted(dict(i.values).get("caps", 0) for i in inserts) == [0, 3]
    assert sorted(driver.client.matching()) == [0, 1]


def test_once_an_upvote_of_the_wrong_row_is_retracted_the_template_row_is_served() -> None:
    table = table_with([MESSI_FW])
    driver = Driver(table)
    wrong = driver.seed(MESSI_MF)
    driver.seed_upvotes(wrong, "w1", "w2")
    driver.start()
    assert driver.client.waiting_for_votes() == [0]

    driver.retract("w1", wrong)

    assert table.score(wrong) == 0
    assert driver.client.waiting_for_votes() == []
    (insert,) = driver.inserted
    assert dict(insert.values) == MESSI_FW
    assert driver.client.matching() == {0: ("key", ("Messi", "Argentina"))}


def test_retracted_downvotes_put_the_wrong_row_back_on_top_and_the_template_row_waits_again() -> None:
    table = table_with([MESSI_FW])
    driver = Driver(table)
    wrong = driver.seed(MESSI_MF)
    driver.seed_upvotes(wrong, "w1", "w2")
    driver.start()
    for worker in ("w3", "w4", "w5"):
        driver.downvote(worker, wrong)
    assert driver.client.inserted_count == 1

    for worker in ("w3", "w4", "w5"):
        driver.retract(worker, wrong)

    assert table.status(wrong).value == "green"
    assert table.status(driver.inserted[0].row_id).value == "yellow"
    assert driver.client.waiting_for_votes() == [0]
    assert driver.client.matching() == {}
    assert driver.client.inserted_count == 1, "an insert that would arrive yellow is not made"
