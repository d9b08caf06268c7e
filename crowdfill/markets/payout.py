"""The settlement's totals as the pay commands print them: paid, unpaid, and why."""

from __future__ import annotations

from crowdfill.markets.money import cents_to_amount
from crowdfill.markets.settlement import Settlement


def payout_lines(table_id: str, settlement: Settlement) -> list[str]:
    """``table X (completed): paid $a of the $b budget, unpaid $c`` and one line per unpaid reason.

    Nothing for a table that is not settled yet: its amounts are estimates.
    """
    if settlement.paid_cents is None or settlement.unpaid_cents is None:
        return []
    outcome = "completed" if settlement.completed else "closed early"
    paid, budget = cents_to_amount(settlement.paid_cents), cents_to_amount(settlement.budget_cents)
    unpaid = cents_to_amount(settlement.unpaid_cents)
    lines = [f"table {table_id} ({outcome}): paid ${paid} of the ${budget} budget, unpaid ${unpaid}"]
    lines.extend(
        f"  unpaid {reason}: ${cents_to_amount(cents)}" for reason, cents in settlement.unpaid_reasons.items()
    )
    return lines
