"""Invariants of the settlement on random histories (Hypothesis)."""

from __future__ import annotations

import json
import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation import CompensationSettings, settle
from crowdfill.compensation.unpaid import NO_CONTRIBUTIONS, REASONS, ROUNDING
from crowdfill.model import Downvote, Fill, Insert, Upvote
from tests.compensation.histories import SCHEMA, History, exact_reference, histories, standing
from tests.compensation.histories import settings as compensation_settings

EXAMPLES = settings(max_examples=150, deadline=None)


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_payments_are_non_negative_whole_cents_that_never_exceed_the_budget(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    assert all(isinstance(c, int) and c >= 0 for c in settlement.payments.values())
    assert sum(settlement.payments.values()) == settlement.paid_cents <= chosen.budget_cents
    assert settlement.paid_cents + settlement.unpaid_cents == chosen.budget_cents


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_each_payment_is_the_floor_of_the_exact_earnings_or_one_cent_more(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    total = Fraction(0)
    for worker, cents in settlement.payments.items():
        exact = settlement.exact_cents(worker)
        total += exact
        assert cents - math.floor(exact) in (0, 1)
        if exact == 0:
            assert cents == 0
    assert settlement.paid_cents == math.floor(total)


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_exact_earnings_match_a_direct_reading_of_the_formulas(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    reference = exact_reference(history, chosen, completed=completed)
    for worker in set(settlement.payments) | set(reference):
        difference = settlement.exact_cents(worker) - reference.get(worker, Fraction(0))
        assert abs(difference) < Fraction(1, 10**6)


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_replaying_the_log_gives_the_same_settlement(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    first = settle(history.table, history.log, chosen, completed=completed).to_dict()
    again = settle(history.replay(), list(history.log), chosen, completed=completed).to_dict()
    assert first == again
    assert json.loads(json.dumps(first)) == first


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_every_worker_in_the_log_is_listed_and_nobody_else(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    seen = {op.worker for op in history.log if not isinstance(op, Insert)}
    assert set(settlement.payments) == seen
    assert list(settlement.payments) == sorted(seen)


def _contributed(history: History, worker: str) -> bool:
    """Independent of the implementation: a fill in the first chain that holds a final row's values,
    or a vote for the final values, or a downvote of a rival with the same key."""
    schema = history.table.schema
    made_by: dict[str, Fill | Insert] = {}
    first_with: dict[frozenset[tuple[str, object]], str] = {}
    for op in history.log:
        if isinstance(op, Insert | Fill):
            row_id = op.row_id if isinstance(op, Insert) else op.new_row_id
            made_by[row_id] = op
            first_with.setdefault(op.values, row_id)
    for row in history.table.final_table():
        current = made_by[first_with[row.values]]
        while isinstance(current, Fill):
            if current.worker == worker:
                return True
            current = made_by[current.row_id]
        key = schema.key_of(row.values)
        for op in standing(history.log):
            if op.worker != worker:
                continue
            if isinstance(op, Upvote) and op.values == row.values:
                return True
            if isinstance(op, Downvote) and schema.key_of(op.values) == key and not op.values <= row.values:
                return True
    return False


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_a_worker_whose_work_did_not_contribute_gets_nothing(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    for worker, cents in settlement.payments.items():
        if not _contributed(history, worker):
            assert cents == 0
            assert settlement.exact_cents(worker) == 0


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans(), st.sampled_from(SCHEMA.names), st.integers(1, 7))
def test_raising_a_column_weight_never_lowers_what_that_columns_fillers_earn(
    history: History, chosen: CompensationSettings, completed: bool, column: str, raise_by: int
) -> None:
    weights = dict(chosen.column_weights or {})
    raised = {**weights, column: weights.get(column, 1) + raise_by}
    before = settle(history.table, history.log, chosen, completed=completed)
    after = settle(
        history.table,
        history.log,
        CompensationSettings(chosen.budget_cents, chosen.growth, raised, chosen.vote_share),
        completed=completed,
    )
    for worker in before.payments:
        earned_before, earned_after = before.earned(worker), after.earned(worker)
        # exactly, the column's part never shrinks
        assert earned_after.get(column, Fraction(0)) >= earned_before.get(column, Fraction(0))
        # a worker paid only for this column (and votes, unless the table completed: redistribution
        # then follows the other workers' gains) never earns less, and loses at most the
        # largest-remainder cent in rounding
        if set(earned_before) <= ({column} if completed else {column, "vote"}):
            assert after.exact_cents(worker) >= before.exact_cents(worker)
            assert after.payments[worker] >= before.payments[worker] - 1


@EXAMPLES
@given(histories(), compensation_settings())
def test_a_completed_table_pays_exactly_its_budget_unless_nobody_earned_anything(
    history: History, chosen: CompensationSettings
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=True)
    if any(settlement.exact_cents(worker) for worker in settlement.payments):
        assert settlement.paid_cents == sum(settlement.payments.values()) == chosen.budget_cents
        assert settlement.unpaid_cents == 0
        assert settlement.unpaid_reasons == {}
    else:
        assert settlement.paid_cents == 0
        expected = {NO_CONTRIBUTIONS: chosen.budget_cents} if chosen.budget_cents else {}
        assert settlement.unpaid_reasons == expected


@EXAMPLES
@given(histories(), compensation_settings(), st.booleans())
def test_the_unpaid_reasons_add_up_to_the_unpaid_cents_with_documented_codes(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settlement = settle(history.table, history.log, chosen, completed=completed)
    reasons = settlement.unpaid_reasons
    assert sum(reasons.values()) == settlement.unpaid_cents
    assert set(reasons) <= set(REASONS)
    assert all(isinstance(cents, int) and cents > 0 for cents in reasons.values())
    assert list(reasons) == [reason for reason in REASONS if reason in reasons]
    if reasons.get(ROUNDING):
        # the fractional cents of the earnings: fewer than the workers who earned anything
        assert reasons[ROUNDING] <= sum(1 for w in settlement.payments if settlement.exact_cents(w))


@EXAMPLES
@given(histories(), compensation_settings())
def test_completing_never_pays_anyone_less_than_closing_early_would(
    history: History, chosen: CompensationSettings
) -> None:
    completed = settle(history.table, history.log, chosen, completed=True)
    closed = settle(history.table, history.log, chosen, completed=False)
    for worker in closed.payments:
        # fixed-point row weights differ by less than 2**-96 of the budget between the two
        assert completed.exact_cents(worker) - closed.exact_cents(worker) > -Fraction(1, 10**6)
