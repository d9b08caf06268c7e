"""What a table owes its workers, as the market commands pay it (from the SDK's compensation report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowdfill.client import Client, UnexpectedAnswer
from crowdfill.wire.answers import FINISHED_STATUSES


@dataclass(frozen=True)
class Settlement:
    payments: dict[str, int]
    budget_cents: int
    finished: bool
    status: str
    # From a settled table's report (None while it is live): what is paid, what is not, and why.
    paid_cents: int | None = None
    unpaid_cents: int | None = None
    unpaid_reasons: dict[str, int] = field(default_factory=dict)
    completed: bool | None = None


def settlement_of(client: Client, table_id: str) -> Settlement:
    """The table's payments in cents per worker, its budget, and whether it is finished.

    A settled table gives its settlement's ``payments``; a live one its workers' current estimates
    (``total`` per worker), which are only good for a dry run.
    """
    table = client.table(table_id)
    report = client.compensation(table_id)
    if report.settled:
        raw = report.settlement.get("payments") if report.settlement is not None else None
    else:
        estimates = report.workers
        raw = (
            {w: e.get("total") if isinstance(e, dict) else e for w, e in estimates.items()}
            if estimates is not None
            else None
        )
    if not isinstance(raw, dict):
        raise UnexpectedAnswer("the compensation report has no payments or estimates per worker")
    payments: dict[str, int] = {}
    for worker, cents in raw.items():
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise UnexpectedAnswer(f"the payment of {worker!r} is not a whole number of cents: {cents!r}")
        payments[str(worker)] = cents
    finished = report.settled and table.status in FINISHED_STATUSES
    settlement = report.settlement
    if not report.settled or settlement is None:
        return Settlement(payments, report.budget_cents, finished, table.status)
    return Settlement(
        payments,
        report.budget_cents,
        finished,
        table.status,
        paid_cents=_cents(settlement, "paid_cents"),
        unpaid_cents=_cents(settlement, "unpaid_cents"),
        unpaid_reasons=_reasons(settlement.get("unpaid_reasons", {})),
        completed=bool(settlement.get("completed", table.status == "complete")),
    )


def _cents(report: dict[str, Any], name: str) -> int:
    cents = report.get(name)
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise UnexpectedAnswer(f"the settlement's {name!r} is not a whole number of cents: {cents!r}")
    return cents


def _reasons(raw: object) -> dict[str, int]:
    """The unpaid cents per reason code (servers before reasons existed send none: empty)."""
    if not isinstance(raw, dict):
        raise UnexpectedAnswer(f"the settlement's 'unpaid_reasons' is not an object: {raw!r}")
    reasons: dict[str, int] = {}
    for code, cents in raw.items():
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise UnexpectedAnswer(f"the unpaid cents for {code!r} are not a whole number: {cents!r}")
        reasons[str(code)] = cents
    return reasons
