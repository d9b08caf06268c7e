"""``credits`` (the settlement's batch) credits every row as the per-row reference formula does."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation import CompensationSettings, settle
from crowdfill.compensation.credit import RowCredit, agreeing_voters, credits
from crowdfill.compensation.ledger import Ledger
from crowdfill.model import CandidateTable
from crowdfill.model.row import Row
from crowdfill.model.schema import Schema
from crowdfill.model.values import Value
from tests.compensation.histories import SCHEMA, History, histories, play
from tests.compensation.histories import settings as compensation_settings

EXAMPLES = settings(max_examples=150, deadline=None)

# Denser than ``histories``: mostly fills (on four columns, so rows complete) and votes, so that
# complete rows have explicit upvoters, rivals' downvoters and hedgers to take away.
busy = st.builds(
    play,
    st.integers(0, 4),
    st.integers(0, 4),
    st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 7, 8]),
            st.integers(0, 200),
            st.integers(0, 20),
            st.integers(0, 5),
            st.integers(0, 9),
        ),
        min_size=40,
        max_size=160,
    ),
)


def reference(ledger: Ledger, table: CandidateTable, row: Row, schema: Schema) -> RowCredit:
    """The credit of one row as it was computed before ``credits``: one lookup after another."""
    key: tuple[Value, ...] | None = schema.key_of(row.values)
    assert key is not None
    paid = ledger.first_row.get(row.values, row.row_id)
    entered = ledger.fillers(paid) if ledger.knows(paid) else {}
    fillers = tuple((name, entered.get(name)) for name in schema.names)
    return RowCredit(row.row_id, key, paid, fillers, agreeing_voters(ledger, table, row, key))


@EXAMPLES
@given(busy)
def test_the_batch_credits_every_complete_row_as_the_reference_formula_does(history: History) -> None:
    # Every complete live row, not only the final ones: the estimator credits probable rows too.
    table = history.table
    ledger = Ledger.of(SCHEMA, history.log)
    rows = [row for row in table.rows() if SCHEMA.is_complete(row.values)]
    expected = [reference(ledger, table, row, SCHEMA) for row in rows]
    assert credits(ledger, table, rows) == expected


@EXAMPLES
@given(st.one_of(histories(), busy), compensation_settings(), st.booleans())
def test_each_workers_earnings_are_their_fills_and_votes_in_the_rows_in_the_order_first_earned(
    history: History, chosen: CompensationSettings, completed: bool
) -> None:
    settled = settle(history.table, history.log, chosen, completed=completed)
    excluded = set(settled.excluded_workers)
    expected: dict[str, dict[str, Fraction]] = {}
    for row in settled.rows:
        for column, worker in row.fillers:
            if worker is not None and worker not in excluded:
                kinds = expected.setdefault(worker, {})
                kinds[column] = kinds.get(column, Fraction(0)) + settled.fill_cents(row, column)
        for worker in row.voters:
            if worker not in excluded:
                kinds = expected.setdefault(worker, {})
                kinds["vote"] = kinds.get("vote", Fraction(0)) + settled.vote_cents_each(row)
    for worker, kinds in expected.items():
        assert list(settled.earned(worker).items()) == list(kinds.items())
