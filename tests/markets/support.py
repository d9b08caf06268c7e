"""Shared test doubles for the markets tests: stubbed MTurk clients and a fake requester API."""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.stub import Stubber

from crowdfill.client import Client
from crowdfill.markets.mturk_client import ENDPOINTS, MTURK_REGION, Environment

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient

TABLE = "soccer"
SERVER = "http://crowdfill.test"


@functools.cache
def _session() -> boto3.session.Session:
    # One session for all tests: it caches botocore's service model, which is slow to load.
    return boto3.session.Session(aws_access_key_id="test-key", aws_secret_access_key="test-secret")


def offline_client(env: Environment = "sandbox") -> MTurkClient:
    """A real boto3 MTurk client with dummy credentials; tests wrap it in a Stubber, so nothing is sent."""
    client: MTurkClient = _session().client("mturk", region_name=MTURK_REGION, endpoint_url=ENDPOINTS[env])
    return client


@contextmanager
def stubbed(client: MTurkClient) -> Iterator[Stubber]:
    """Activate a Stubber and check afterwards that every expected call was made."""
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def assignment(assignment_id: str, worker_id: str, hit_id: str = "HIT1", status: str = "Submitted") -> Any:
    return {
        "AssignmentId": assignment_id,
        "WorkerId": worker_id,
        "HITId": hit_id,
        "AssignmentStatus": status,
        "SubmitTime": datetime(2026, 11, 25, 12, int(assignment_id[-1]), tzinfo=UTC),
    }


def expect_assignments(stubber: Stubber, hit_id: str, assignments: list[Any]) -> None:
    stubber.add_response(
        "list_assignments_for_hit",
        {"Assignments": assignments, "NumResults": len(assignments)},
        {"HITId": hit_id, "MaxResults": 100, "AssignmentStatuses": ["Submitted", "Approved", "Rejected"]},
    )


def expect_bonuses(stubber: Stubber, hit_id: str, bonuses: list[tuple[str, str, str]]) -> None:
    """``bonuses``: (WorkerId, AssignmentId, amount) already granted on the HIT."""
    payments = [
        {"WorkerId": w, "AssignmentId": a, "BonusAmount": amount, "Reason": "r"} for w, a, amount in bonuses
    ]
    stubber.add_response(
        "list_bonus_payments",
        {"BonusPayments": payments, "NumResults": len(payments)},
        {"HITId": hit_id, "MaxResults": 100},
    )


class FakeServer:
    """Answers the requester REST calls the market commands make, in the shapes of docs/protocol.md."""

    def __init__(
        self,
        payments: Mapping[str, int],
        budget_cents: int = 1000,
        status: str = "complete",
        unpaid_reasons: Mapping[str, int] | None = None,
    ) -> None:
        self.payments = dict(payments)
        self.budget_cents = budget_cents
        self.status = status
        self.unpaid_reasons = dict(unpaid_reasons or {})
        self.calls: list[tuple[str, str, Any]] = []
        self.batches = 0
        self.refuse_hits = False

    def _table(self) -> dict[str, Any]:
        definition = {"name": "SoccerPlayer", "budget_cents": self.budget_cents, "schema": {"columns": []}}
        return {"id": TABLE, "status": self.status, "definition": definition, "seq": 42}

    def _compensation(self) -> dict[str, Any]:
        if self.status in ("complete", "closed"):
            settlement = {
                "payments": self.payments,
                "completed": self.status == "complete",
                "paid_cents": sum(self.payments.values()),
                "unpaid_cents": sum(self.unpaid_reasons.values()),
                "unpaid_reasons": self.unpaid_reasons,
            }
            return {"settled": True, "budget_cents": self.budget_cents, "settlement": settlement}
        estimates = {w: {"fill": {}, "vote": 0, "total": cents} for w, cents in self.payments.items()}
        return {
            "settled": False,
            "budget_cents": self.budget_cents,
            "estimated_total_cents": sum(self.payments.values()),
            "workers": estimates,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        body: Any = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, body))
        if request.headers.get("Authorization") != "Bearer requester-secret":
            return _error(401, "unauthorized", "send the requester token as 'Authorization: Bearer <token>'")
        path = request.url.path
        if request.method == "GET" and path == f"/api/tables/{TABLE}":
            return httpx.Response(200, json=self._table())
        if request.method == "GET" and path == f"/api/tables/{TABLE}/compensation":
            return httpx.Response(200, json=self._compensation())
        if request.method == "POST" and path == f"/api/tables/{TABLE}/recruit-urls":
            return httpx.Response(201, json=self._recruit(body))
        recruit = f"/api/tables/{TABLE}/recruit-urls/"
        if request.method == "POST" and path.startswith(recruit) and path.endswith("/hits"):
            if self.refuse_hits:
                return _error(503, "store_unavailable", "the store is down")
            return httpx.Response(
                200, json={"batch": path[len(recruit) : -len("/hits")], "hit_ids": body["hit_ids"]}
            )
        prefix = f"/api/tables/{TABLE}/workers/"
        if request.method == "POST" and path.startswith(prefix) and path.endswith("/block"):
            return httpx.Response(
                200, json={"worker_id": path[len(prefix) : -len("/block")], "blocked": True}
            )
        return _error(404, "table_not_found", f"no route {request.method} {path}")

    def _recruit(self, body: Any) -> dict[str, Any]:
        # The real server signs with its secret; here a recognisable stand-in is enough.
        if body["platform"] == "mturk":
            self.batches += 1
            batch = f"b{self.batches}"
            return {"platform": "mturk", "query": {"cf_batch": batch, "cf_sig": f"sig-{batch}"}}
        return {"platform": "prolific", "query": {"cf_sig": f"sig-{body['study_id']}"}}

    def api(self, args: argparse.Namespace | None = None) -> Client:
        del args
        return Client(SERVER, "requester-secret", transport=httpx.MockTransport(self.handle))


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def cli_args(state_dir: Path, **options: Any) -> argparse.Namespace:
    """The namespace the market subcommands parse, with test defaults."""
    values: dict[str, Any] = {
        "table": TABLE,
        "server": SERVER,
        "token": "requester-secret",
        "state_dir": str(state_dir),
        "live": False,
        "profile": None,
        "dry_run": False,
    }
    values.update(options)
    return argparse.Namespace(**values)


def constant(client: MTurkClient) -> Callable[[argparse.Namespace], MTurkClient]:
    def factory(args: argparse.Namespace) -> MTurkClient:
        del args
        return client

    return factory
