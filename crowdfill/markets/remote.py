"""The few requester REST calls the market commands make to a running CrowdFill server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crowdfill.export.rest import FINISHED_STATUSES, RequesterClient, ServerError, table_path


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


class RequesterApi(RequesterClient):
    """``GET /api/tables/{id}``, ``GET /api/tables/{id}/compensation`` and
    ``POST /api/tables/{id}/workers/{worker_id}/block``, ``POST /api/tables/{id}/recruit-urls``
    (shapes as in docs/protocol.md)."""

    def table(self, table_id: str) -> dict[str, Any]:
        return self.get_object(table_path(table_id))

    def settlement(self, table_id: str) -> Settlement:
        """The table's payments in cents per worker, its budget, and whether it is finished.

        A settled table gives its settlement's ``payments``; a live one its workers' current
        estimates (``total`` per worker), which are only good for a dry run.
        """
        table = self.table(table_id)
        report = self.get_object(table_path(table_id, "compensation"))
        settled = report.get("settled") is True
        if settled:
            settlement = report.get("settlement")
            raw = settlement.get("payments") if isinstance(settlement, dict) else None
        else:
            estimates = report.get("workers")
            raw = (
                {w: e.get("total") if isinstance(e, dict) else e for w, e in estimates.items()}
                if isinstance(estimates, dict)
                else None
            )
        if not isinstance(raw, dict):
            raise ServerError("the compensation report has no payments or estimates per worker")
        payments: dict[str, int] = {}
        for worker, cents in raw.items():
            if isinstance(cents, bool) or not isinstance(cents, int):
                raise ServerError(f"the payment of {worker!r} is not a whole number of cents: {cents!r}")
            payments[str(worker)] = cents
        budget = report.get("budget_cents")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise ServerError("the compensation report gives no 'budget_cents'")
        status = str(table.get("status", ""))
        finished = settled and status in FINISHED_STATUSES
        if not settled:
            return Settlement(payments, budget, finished, status)
        assert isinstance(settlement, dict)  # checked with the payments above
        return Settlement(
            payments,
            budget,
            finished,
            status,
            paid_cents=_cents(settlement, "paid_cents"),
            unpaid_cents=_cents(settlement, "unpaid_cents"),
            unpaid_reasons=_reasons(settlement.get("unpaid_reasons", {})),
            completed=bool(settlement.get("completed", status == "complete")),
        )

    def block(self, table_id: str, worker: str) -> None:
        """Block ``worker`` in CrowdFill: sessions closed, further operations refused."""
        self.call("POST", table_path(table_id, "workers", worker, "block"))

    def recruit_query(self, table_id: str, platform: str, study_id: str | None = None) -> dict[str, str]:
        """The signed query parameters for the table's worker page URL on a marketplace.

        MTurk: ``cf_batch`` (a fresh publish batch) and ``cf_sig``; Prolific: ``cf_sig`` for the study.
        The server signs with its secret, which never leaves it.
        """
        body: dict[str, str] = {"platform": platform}
        if study_id is not None:
            body["study_id"] = study_id
        answer = self.call("POST", table_path(table_id, "recruit-urls"), body=body)
        query = answer.get("query") if isinstance(answer, dict) else None
        if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
            raise ServerError("the server answered no signed query for the recruiting URL")
        return {str(name): str(value) for name, value in query.items()}

    def record_batch_hits(self, table_id: str, batch: str, hit_ids: list[str]) -> None:
        """Tell the server which HITs a publish batch created: visits must then come from one of them."""
        self.call("POST", table_path(table_id, "recruit-urls", batch, "hits"), body={"hit_ids": hit_ids})


def _cents(report: dict[str, Any], name: str) -> int:
    cents = report.get(name)
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise ServerError(f"the settlement's {name!r} is not a whole number of cents: {cents!r}")
    return cents


def _reasons(raw: object) -> dict[str, int]:
    """The unpaid cents per reason code (servers before reasons existed send none: empty)."""
    if not isinstance(raw, dict):
        raise ServerError(f"the settlement's 'unpaid_reasons' is not an object: {raw!r}")
    reasons: dict[str, int] = {}
    for code, cents in raw.items():
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise ServerError(f"the unpaid cents for {code!r} are not a whole number: {cents!r}")
        reasons[str(code)] = cents
    return reasons
