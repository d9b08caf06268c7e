"""A small typed table for the export tests, built the way the server builds tables."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import httpx

from crowdfill.export.remote import ExportApi
from crowdfill.model import CENTRAL_CLIENT, CandidateTable, Column, Schema, Value
from crowdfill.model.codec import operation_to_wire
from crowdfill.server.views import candidate_rows, iter_candidate_rows
from tests.model.support import Builder

PEOPLE = Schema(
    (
        Column("name"),
        Column("born", "date"),
        Column("caps", "integer"),
        Column("height", "number"),
        Column("active", "boolean"),
    ),
    ("name",),
)
TABLE = "people"
SERVER = "http://crowdfill.test"
LOG_START = 1_780_000_000.0  # the fake log's operations happen one second apart from here


class Crowd(Builder):
    """A people table that applies operations as the server would, and keeps the accepted log."""

    def __init__(self) -> None:
        super().__init__(CandidateTable(PEOPLE))

    def row(self, worker: str, values: dict[str, Value]) -> str:
        """A new row filled with ``values`` by ``worker``; its last id."""
        return self.row_with(worker, values)


class FakeServer:
    """Answers the REST calls ``crowdfill export`` makes from a live ``Crowd``, in the shapes of
    docs/protocol.md; the crowd can go on working (and the status change) between calls."""

    def __init__(self, crowd: Crowd, status: str = "live") -> None:
        self.crowd = crowd
        self.status = status
        self.requests: list[str] = []

    @property
    def paths(self) -> list[str]:
        return [r.split("?")[0] for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        query = request.url.query.decode()
        self.requests.append(request.url.path + (f"?{query}" if query else ""))
        if request.headers.get("Authorization") != "Bearer requester-secret":
            return _error(401, "unauthorized", "send the requester token as 'Authorization: Bearer <token>'")
        table = self.crowd.table
        if request.url.path == f"/api/tables/{TABLE}":
            columns = [{"name": c.name, "type": c.type, "domain": None} for c in PEOPLE.columns]
            definition = {
                "name": "People",
                "schema": {"columns": columns, "key": ["name"]},
                "budget_cents": 500,
            }
            workers = len({op.worker for op in self.crowd.log} - {CENTRAL_CLIENT})
            body = {
                "id": TABLE,
                "status": self.status,
                "definition": definition,
                "seq": len(self.crowd.log),
                "workers": workers,
            }
            return httpx.Response(200, json=body)
        if request.url.path == f"/api/tables/{TABLE}/candidates":
            rows = candidate_rows(table)  # the real server's rendering of the rows
            return httpx.Response(200, json={"seq": len(self.crowd.log), "status": self.status, "rows": rows})
        if request.url.path == f"/api/tables/{TABLE}/export/candidates.jsonl":
            # The real server's streamed export: one candidate row per line, as /candidates has them.
            lines = "".join(
                json.dumps(row, separators=(",", ":")) + "\n" for row in iter_candidate_rows(table)
            )
            return httpx.Response(
                200, content=lines.encode(), headers={"content-type": "application/x-ndjson"}
            )
        if request.url.path == f"/api/tables/{TABLE}/compensation":
            settled = self.status in ("complete", "closed")
            if settled:
                settlement = {"payments": {"ann": 300}, "paid_cents": 300, "unpaid_cents": 200}
                return httpx.Response(
                    200, json={"settled": True, "budget_cents": 500, "settlement": settlement}
                )
            report = {"settled": False, "budget_cents": 500, "estimated_total_cents": 120, "workers": {}}
            return httpx.Response(200, json=report)
        if request.url.path == f"/api/tables/{TABLE}/log":
            after = int(request.url.params.get("after_seq", "0"))
            limit = int(request.url.params.get("limit", "1000"))
            entries = [
                {"seq": seq, "at": LOG_START + seq, "op": operation_to_wire(op)}
                for seq, op in enumerate(self.crowd.log, start=1)
                if seq > after
            ][:limit]
            return httpx.Response(200, json={"ops": entries, "last_seq": len(self.crowd.log)})
        return _error(404, "table_not_found", f"no table with id {request.url.path.split('/')[3]!r}")

    def api(self) -> ExportApi:
        return ExportApi(SERVER, "requester-secret", transport=httpx.MockTransport(self.handle))


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def export_args(out: Path, **options: Any) -> argparse.Namespace:
    values: dict[str, Any] = {
        "table": TABLE,
        "format": "csv",
        "what": "final",
        "out": str(out),
        "server": SERVER,
        "token": "requester-secret",
        "every": None,
        "max_rounds": 100,
        "push_to_hub": None,
        "private": False,
        "no_progress": True,
        "no_row_ids": False,
    }
    values.update(options)
    return argparse.Namespace(**values)
