"""Why part of a budget stays unpaid: a small set of stable reason codes, and the split in cents.

A completed table pays its whole budget (the unearned parts are redistributed over the workers'
earnings), so reasons only appear when the requester closed the table early, when nobody earned
anything, or when the requester excluded workers (their earnings are kept back, never
redistributed). The codes are part of the REST report (docs/compensation.md, docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from crowdfill.compensation.rounding import largest_remainder

CLOSED_EARLY_UNFILLED = "closed_early_unfilled"  # shares kept for template rows that never became final
TEMPLATE_VALUES = "template_values"  # values nobody entered: the template's, the central client's
NO_AGREEING_VOTERS = "no_agreeing_voters"  # the vote part of final rows that no worker agreed with
ROUNDING = "rounding"  # the fraction of a cent left when the earnings are floored to whole cents
NO_CONTRIBUTIONS = "no_contributions"  # no worker earned anything: the whole budget
EXCLUDED_WORKERS = "excluded_workers"  # what excluded workers' fills and votes would have earned
REASONS = (
    CLOSED_EARLY_UNFILLED,
    TEMPLATE_VALUES,
    NO_AGREEING_VOTERS,
    EXCLUDED_WORKERS,
    ROUNDING,
    NO_CONTRIBUTIONS,
)


def split_unpaid(unpaid_cents: int, exact: Mapping[str, int], scale: int, denominator: int) -> dict[str, int]:
    """``unpaid_cents`` split over the reasons whose exact amounts are ``scale * n / denominator``.

    The exact amounts of the reasons other than ``ROUNDING`` are given (they add up to at most
    ``unpaid_cents``); ``ROUNDING`` is what is left. Rounded by largest remainder, the cents add up
    to ``unpaid_cents`` exactly. Reasons with 0 cents are left out; the order is that of ``REASONS``.
    """
    if unpaid_cents <= 0:
        return {}
    numerators = {reason: scale * amount for reason, amount in exact.items()}
    numerators[ROUNDING] = unpaid_cents * denominator - sum(numerators.values())
    cents = largest_remainder(numerators, 1, denominator)
    return {reason: cents[reason] for reason in REASONS if cents.get(reason, 0) > 0}
