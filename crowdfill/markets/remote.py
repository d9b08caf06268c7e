"""The few requester REST calls the market commands make to a running CrowdFill server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_SERVER = "http://127.0.0.1:8000"
# Table statuses after which the final table and the settlement no longer change.
FINISHED_STATUSES = frozenset({"complete", "closed"})


class ServerError(RuntimeError):
    """The server could not be reached, refused the request, or answered something unexpected."""


@dataclass(frozen=True)
class Settlement:
    payments: dict[str, int]
    budget_cents: int
    finished: bool
    status: str


class RequesterApi:
    """``GET /api/tables/{id}``, ``GET /api/tables/{id}/compensation`` and
    ``POST /api/tables/{id}/workers/{worker_id}/block`` (shapes as in docs/protocol.md)."""

    def __init__(
        self, base_url: str, token: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._base = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self._base, headers=headers, timeout=30.0, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RequesterApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise ServerError(f"cannot reach the CrowdFill server at {self._base}: {error}") from error
        if response.status_code >= 400:
            raise ServerError(f"{method} {path} failed with {response.status_code}: {_detail(response)}")
        try:
            return response.json()
        except ValueError as error:
            raise ServerError(f"{method} {path} did not answer JSON") from error

    def table(self, table_id: str) -> dict[str, Any]:
        answer = self._call("GET", f"/api/tables/{quote(table_id, safe='')}")
        if not isinstance(answer, dict):
            raise ServerError(f"GET /api/tables/{table_id} did not answer an object")
        return answer

    def settlement(self, table_id: str) -> Settlement:
        """The table's payments in cents per worker, its budget, and whether it is finished.

        A settled table gives its settlement's ``payments``; a live one its workers' current
        estimates (``total`` per worker), which are only good for a dry run.
        """
        table = self.table(table_id)
        report = self._call("GET", f"/api/tables/{quote(table_id, safe='')}/compensation")
        if not isinstance(report, dict):
            raise ServerError("the compensation report is not an object")
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
        return Settlement(payments, budget, settled and status in FINISHED_STATUSES, status)

    def block(self, table_id: str, worker: str) -> None:
        """Block ``worker`` in CrowdFill: sessions closed, further operations refused."""
        path = f"/api/tables/{quote(table_id, safe='')}/workers/{quote(worker, safe='')}/block"
        self._call("POST", path)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        return f"{error.get('code', 'error')}: {error['message']}"[:300]
    return str(body)[:300]
