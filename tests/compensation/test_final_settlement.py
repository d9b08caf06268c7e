"""The settlement at close comes from the estimator's running ledger: equal to settling the log."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation import CompensationSettings, Estimator, LogMismatch, settle
from crowdfill.model import CandidateTable, Insert, Scoring, Template
from tests.compensation.histories import SCHEMA, History, histories
from tests.compensation.histories import settings as compensation_settings

EXAMPLES = settings(max_examples=100, deadline=None)


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans(), st.integers(0, 100))
def test_the_incremental_settlement_equals_settling_the_whole_log(
    history: History, chosen: CompensationSettings, completed: bool, restart_percent: int
) -> None:
    # The estimator is made part-way through, as after a restart, with the operations so far as
    # its history; it observes the rest one by one.
    cut = len(history.log) * restart_percent // 100
    table = CandidateTable(history.table.schema, history.table.scoring, history.table.template)
    for op in history.log[:cut]:
        table.integrate(op)
    estimator = Estimator(table, chosen, history.log[:cut])
    for op in history.log[cut:]:
        table.integrate(op)
        estimator.observe(op)
    table.close()
    expected = settle(table, history.log, chosen, completed=completed)
    assert estimator.final_settlement(completed=completed).to_dict() == expected.to_dict()


def test_an_estimator_that_missed_operations_refuses_to_settle_the_table() -> None:
    table = CandidateTable(SCHEMA, Scoring(), Template.define(SCHEMA, [{}]))
    estimator = Estimator(table, CompensationSettings(budget_cents=100))
    table.integrate(Insert("r1", frozenset()))  # applied, but never shown to the estimator
    table.close()
    with pytest.raises(LogMismatch, match="live rows"):
        estimator.final_settlement(completed=False)
