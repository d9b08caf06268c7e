"""What a table owes its workers, as the market commands pay it (from the SDK's compensation report)."""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.client import Client, UnexpectedAnswer
from crowdfill.wire.answers import FINISHED_STATUSES


@dataclass(frozen=True)
class Settlement:
    payments: dict[str, int]
    budget_cents: int
    finished: bool
    status: str


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
    return Settlement(
        payments, report.budget_cents, report.settled and table.status in FINISHED_STATUSES, table.status
    )
