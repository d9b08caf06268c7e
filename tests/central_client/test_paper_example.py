"""The paper's running example: the SoccerPlayer template against the paper's candidate table."""

from __future__ import annotations

from crowdfill.model import CandidateTable, Downvote, GroupRescored, Template, Upvote, Value
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from tests.central_client.support import NEYMAR_FW, Driver
from tests.model.support import BECKHAM, CASILLAS, MESSI, RONALDINHO_FW, RONALDINHO_MF


def soccer_table() -> CandidateTable:
    return CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS))


def paper_table() -> tuple[CandidateTable, dict[str, str]]:
    """Messi 2/0, Ronaldinho MF 3/0, Ronaldinho FW 2/1, Neymar partial FW 0/2, Casillas 2/0, Beckham 1/0."""
    table = soccer_table()
    driver = Driver(table)
    ids: dict[str, str] = {}
    votes: dict[str, tuple[dict[str, Value], int, int]] = {
        "messi": (MESSI, 2, 0),
        "ronaldinho_mf": (RONALDINHO_MF, 3, 0),
        "ronaldinho_fw": (RONALDINHO_FW, 2, 1),
        "neymar": (NEYMAR_FW, 0, 2),
        "casillas": (CASILLAS, 2, 0),
        "beckham": (BECKHAM, 1, 0),
    }
    for name, (values, ups, downs) in votes.items():
        row_id = driver.seed(values)
        ids[name] = row_id
        for worker in range(ups):
            table.apply(Upvote(f"up{worker}", row_id, frozenset()))
        for worker in range(downs):
            table.apply(Downvote(f"down{worker}", row_id, frozenset()))
    return table, ids


def test_the_paper_table_has_the_paper_final_table() -> None:
    table, ids = paper_table()

    assert {row.row_id for row in table.final_table()} == {
        ids["messi"],
        ids["ronaldinho_mf"],
        ids["casillas"],
    }


def test_the_paper_table_satisfies_the_paper_template_without_any_insert() -> None:
    table, ids = paper_table()
    driver = Driver(table, close_when_satisfied=False)

    assert driver.start() == []
    assert driver.client.satisfied
    assert driver.client.satisfaction() == {0: ids["messi"], 1: ids["ronaldinho_mf"], 2: ids["casillas"]}
    assert driver.client.inserted_count == 0


def test_a_satisfied_table_is_closed_by_the_central_client() -> None:
    table, _ = paper_table()
    driver = Driver(table)

    driver.start()

    assert table.closed


def test_from_an_empty_table_the_central_client_inserts_exactly_three_rows() -> None:
    table = soccer_table()
    driver = Driver(table)

    inserts = driver.start()

    assert [dict(insert.values) for insert in inserts] == SOCCER_TEMPLATE_ROWS
    assert driver.client.inserted_count == 3
    assert driver.client.observe([]) == []
    assert driver.client.start() == []
    assert sorted(driver.client.matching()) == [0, 1, 2]
    assert not driver.client.satisfied
    assert driver.client.satisfaction() is None


def test_the_inserted_rows_are_blue_on_arrival() -> None:
    table = soccer_table()
    driver = Driver(table)

    inserts = driver.start()

    assert [table.status(insert.row_id).value for insert in inserts] == ["blue", "blue", "blue"]


def test_workers_completing_the_inserted_rows_satisfy_the_template_and_close_the_table() -> None:
    table = soccer_table()
    driver = Driver(table)
    forward, brazil, spain = (insert.row_id for insert in driver.start())
    rows: dict[str, dict[str, Value]] = {forward: MESSI, brazil: RONALDINHO_MF, spain: CASILLAS}

    for row_id, values in rows.items():
        for column, value in values.items():
            if column not in dict(table.row(row_id).values):
                row_id = driver.fill("w1", row_id, column, value)
        assert not table.closed
        driver.upvote("w2", row_id)

    assert driver.client.satisfied
    assert table.closed
    assert driver.client.inserted_count == 3
    satisfaction = driver.client.satisfaction()
    assert satisfaction is not None
    assert [dict(table.row(satisfaction[p]).values)["name"] for p in range(3)] == [
        "Messi",
        "Ronaldinho",
        "Casillas",
    ]


def test_a_worker_filling_the_forward_row_with_a_brazilian_keeps_both_template_rows_served() -> None:
    table = soccer_table()
    driver = Driver(table)
    forward, _, _ = (insert.row_id for insert in driver.start())

    driver.fill("w1", forward, "nationality", "Brazil")

    assert sorted(driver.client.matching()) == [0, 1, 2]
    assert driver.client.inserted_count == 3


def test_satisfaction_moves_a_template_row_to_another_final_row_when_that_frees_one_for_another() -> None:
    table = CandidateTable(
        SOCCER_PLAYER,
        template=Template.define(SOCCER_PLAYER, [{"position": "FW"}, {"nationality": "Brazil"}]),
    )
    driver = Driver(table)
    ronaldinho = driver.seed(RONALDINHO_FW)
    driver.seed_upvotes(ronaldinho, "w1", "w2")
    driver.start()
    assert not driver.client.satisfied

    messi = driver.seed(MESSI)
    driver.seed_upvotes(messi, "w1", "w2")
    driver.client.observe([GroupRescored(("key", ("Messi", "Argentina")))])

    assert driver.client.satisfaction() == {0: messi, 1: ronaldinho}
    assert table.closed
