"""Gold rows never serve a template row nor change the central client's matching or inserts."""

from __future__ import annotations

from crowdfill.model import Insert, Upvote, Value, values_from_mapping
from tests.central_client.support import Driver
from tests.model.support import soccer_table

GOLD_FW_BRAZIL: dict[str, Value] = {
    "name": "Pele",
    "nationality": "Brazil",
    "position": "FW",
    "caps": 92,
    "goals": 77,
}


def test_an_upvoted_gold_row_that_fits_template_rows_serves_none_and_moves_no_matching() -> None:
    driver = Driver(soccer_table(), close_when_satisfied=False)
    driver.start()
    matching_before = driver.client.matching()
    planned_before = len(driver.inserted)
    events = driver.table.apply(Insert("g1", values_from_mapping(GOLD_FW_BRAZIL), gold=True))
    assert driver.client.observe(events) == []
    for worker in ("w1", "w2", "w3"):
        assert driver.apply(Upvote(worker, "g1", frozenset())) == []
    assert driver.client.matching() == matching_before
    assert len(driver.inserted) == planned_before
    assert not driver.client.satisfied
    assert driver.table.final_table() == []
