"""The from-scratch Hopcroft-Karp baseline agrees with the incremental client."""

from __future__ import annotations

from crowdfill.central_client.recompute import maximum_matching, probable_graph
from crowdfill.model import CandidateTable, Template
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from tests.central_client import oracle
from tests.central_client.support import Driver
from tests.model.support import MESSI, RONALDINHO_MF


def test_the_baseline_matches_as_many_template_rows_as_the_incremental_client() -> None:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS * 2))
    driver = Driver(table, close_when_satisfied=False)
    driver.seed(MESSI)
    driver.seed(RONALDINHO_MF)
    driver.start()

    baseline = maximum_matching(probable_graph(table))

    assert len(baseline) == len(driver.client.matching()) == 6
    assert len(baseline) == oracle.maximum_matching_size(oracle.probable_edges(table))
    assert len(set(baseline.values())) == len(baseline)
