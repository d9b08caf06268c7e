"""The requester REST API under ``/api`` (requester token required), see docs/protocol.md."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from crowdfill.model import CENTRAL_CLIENT
from crowdfill.server import exports
from crowdfill.server.audit import Held, audit
from crowdfill.server.definition import DefinitionModel, DefinitionPatch
from crowdfill.server.export_source import export_rows
from crowdfill.server.failures import Failure
from crowdfill.server.openapi import BODY, errors
from crowdfill.server.owner import COMPLETION_KIND, SETTLEMENT_KIND, TableOwner
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.screening import Screenings, with_screening
from crowdfill.server.services import Services
from crowdfill.server.views import (
    candidate_rows,
    matching,
    plain_rows,
    summary_table_json,
    table_json,
    workers,
)
from crowdfill.store.port import TableRecord

# The largest sequence number a store can hold (SQLite's INTEGER); larger queries are refused.
MAX_SEQ = 2**63 - 1


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    expires_in_seconds: StrictInt | None = Field(default=None, gt=0, le=10 * 365 * 24 * 3600)


def requester_router(services: Services) -> APIRouter:
    settings = services.settings
    tables = services.tables
    roster = services.roster
    sockets = services.sockets

    router = requester_api(settings)

    async def describe(request: Request, record: TableRecord) -> dict[str, Any]:
        online = sockets.presence.online(record.table_id)
        summary = await tables.summary(record)  # listing many tables loads none of them
        if summary is not None:
            return summary_table_json(record, summary, online, services.base_url(request))
        owner = await tables.owner(record.table_id)
        if owner is None:
            return table_json(record, None, online, services.base_url(request))
        async with owner.lock:
            return table_json(record, owner, online, services.base_url(request))

    async def owner_of(table_id: str) -> TableOwner | None:
        await tables.record(table_id)
        return await tables.owner(table_id)

    @router.post("/tables", status_code=201, summary="Create a draft table", responses=errors(*BODY))
    async def create_table(request: Request, definition: DefinitionModel) -> dict[str, Any]:
        return await describe(request, await tables.create(definition))

    @router.get("/tables", summary="List tables")
    async def list_tables(request: Request) -> dict[str, Any]:
        return {"tables": [await describe(request, record) for record in await tables.list()]}

    @router.get("/tables/{table_id}", summary="Read a table", responses=errors(404))
    async def get_table(request: Request, table_id: str) -> dict[str, Any]:
        return await describe(request, await tables.record(table_id))

    @router.patch("/tables/{table_id}", summary="Edit a draft table", responses=errors(404, 409, *BODY))
    async def patch_table(request: Request, table_id: str, patch: DefinitionPatch) -> dict[str, Any]:
        return await describe(request, await tables.patch(table_id, patch))

    @router.post("/tables/{table_id}/launch", summary="Launch a draft table", responses=errors(404, 409, 422))
    async def launch(request: Request, table_id: str) -> dict[str, Any]:
        return await describe(request, await tables.launch(table_id))

    @router.post("/tables/{table_id}/close", summary="Stop collection and settle", responses=errors(404, 409))
    async def close(request: Request, table_id: str) -> dict[str, Any]:
        return await describe(request, await tables.close(table_id))

    @router.get(
        "/tables/{table_id}/candidates",
        summary="Candidate rows with counts, scores, statuses",
        responses=errors(404),
    )
    async def candidates(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        if owner is None:
            return {"seq": 0, "status": "draft", "rows": []}
        async with owner.lock:
            return {"seq": owner.seq, "status": owner.status, "rows": candidate_rows(owner.table)}

    @router.get("/tables/{table_id}/final", summary="The final table", responses=errors(404))
    async def final(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        if owner is None:
            return {"seq": 0, "status": "draft", "satisfied": False, "rows": []}
        async with owner.lock:
            return {
                "seq": owner.seq,
                "status": owner.status,
                "satisfied": bool(owner.central.satisfied),
                "rows": plain_rows(owner.table, final=True),
            }

    @router.get(
        "/tables/{table_id}/matching",
        summary="Template rows matched to candidate rows",
        responses=errors(404),
    )
    async def template_matching(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        if owner is None:
            return {"seq": 0, "satisfied": False, "template": []}
        async with owner.lock:
            return {"seq": owner.seq, "satisfied": bool(owner.central.satisfied), "template": matching(owner)}

    @router.get(
        "/tables/{table_id}/compensation", summary="Settlement, or live estimates", responses=errors(404)
    )
    async def compensation(table_id: str) -> dict[str, Any]:
        record = await tables.record(table_id)
        budget = int(record.definition["budget_cents"])
        owner = await tables.owner(table_id)
        if owner is None:
            return {"settled": False, "budget_cents": budget, "estimated_total_cents": 0, "workers": {}}
        async with owner.lock:
            if owner.settlement is not None:
                settlement = owner.settlement
                return {
                    "settled": True,
                    "budget_cents": budget,
                    "completed": settlement.completed,
                    "paid_cents": settlement.paid_cents,
                    "unpaid_cents": settlement.unpaid_cents,
                    "unpaid_reasons": dict(settlement.unpaid_reasons),
                    "settlement": settlement.to_dict(),
                }
            estimates = {
                worker: owner.estimator.estimate(worker)
                for worker in owner.ops_by_worker
                if worker != CENTRAL_CLIENT
            }
            total = sum(int(e["total"]) for e in estimates.values())
            return {
                "settled": False,
                "budget_cents": budget,
                "estimated_total_cents": min(total, budget),
                "workers": estimates,
            }

    @router.get(
        "/tables/{table_id}/export/{name}",
        summary="Export final.csv, final.jsonl, candidates.csv or candidates.jsonl (streamed)",
        responses=errors(404),
    )
    async def export(table_id: str, name: str) -> StreamingResponse:
        which, _, fmt = name.partition(".")
        if which not in ("final", "candidates") or fmt not in ("csv", "jsonl"):
            raise Failure("not_found", "exports: final.csv, final.jsonl, candidates.csv, candidates.jsonl")
        record = await tables.record(table_id)
        columns = [c["name"] for c in record.definition["schema"]["columns"]]
        rows = await export_rows(tables, record, which)
        body = exports.csv_lines(rows, columns, which) if fmt == "csv" else exports.jsonl_lines(rows)
        media = "text/csv" if fmt == "csv" else "application/x-ndjson"
        filename = f"{table_id}-{which}.{fmt}"
        return StreamingResponse(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    @router.get("/tables/{table_id}/log", summary="The accepted operation log", responses=errors(404, 422))
    async def log(
        table_id: str,
        after_seq: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        await tables.record(table_id)
        records = await tables.store.read_log(table_id, after_seq, limit)
        last = await tables.store.last_seq(table_id)
        return {
            "ops": [{"seq": r.seq, "at": r.at, "op": r.operation} for r in records],
            "last_seq": last,
        }

    @router.get(
        "/tables/{table_id}/audit",
        summary="Replay the log and check it reproduces the table",
        responses=errors(404, 409),
    )
    async def audit_table(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        if owner is None:
            raise Failure("table_not_live", f"table {table_id!r} is a draft; it has no log to audit")
        store = tables.store
        # Log and served state are read together, under the lock, so they describe the same moment.
        async with owner.lock:
            log = await store.read_log(table_id)
            held = Held(
                status=owner.status,
                candidates=candidate_rows(owner.table),
                final=plain_rows(owner.table, final=True),
                completion=await store.get_item(table_id, COMPLETION_KIND, "final"),
                settlement=await store.get_item(table_id, SETTLEMENT_KIND, "final"),
            )
        # The replay is pure computation on its own table: off the event loop, outside the lock.
        result = await asyncio.to_thread(audit, table_id, owner.spec, log, held)
        return result.to_dict()

    @router.post(
        "/tables/{table_id}/links",
        status_code=201,
        summary="Create a signed worker link",
        responses=errors(404, *BODY),
    )
    async def create_link(request: Request, table_id: str, body: LinkRequest | None = None) -> dict[str, Any]:
        wanted = body or LinkRequest()
        issued = await roster.create_link(table_id, wanted.worker_id, wanted.expires_in_seconds)
        # A replaced link stops working now, including sessions opened with it.
        await sockets.kick(
            table_id,
            issued.worker_id,
            "link_revoked",
            "the requester replaced your link",
            keep_link=issued.link_id,
        )
        return {
            "worker_id": issued.worker_id,
            "link_id": issued.link_id,
            "token": issued.token,
            "expires_at": issued.expires_at,
            "url": f"{services.base_url(request)}/w/{table_id}?token={issued.token}",
        }

    @router.get("/tables/{table_id}/links", summary="List worker links", responses=errors(404))
    async def list_links(request: Request, table_id: str) -> dict[str, Any]:
        base = services.base_url(request)
        links = []
        for link in await roster.links(table_id):
            token = roster.token_for(table_id, link["worker_id"], link)
            links.append({**link, "url": None if link["revoked"] else f"{base}/w/{table_id}?token={token}"})
        return {"links": links}

    @router.delete(
        "/tables/{table_id}/links/{worker_id}", summary="Revoke a worker's link", responses=errors(404)
    )
    async def revoke_link(table_id: str, worker_id: str) -> dict[str, Any]:
        await roster.revoke(table_id, worker_id)
        await sockets.kick(table_id, worker_id, "link_revoked", "the requester revoked your link")
        return {"worker_id": worker_id, "revoked": True}

    @router.post(
        "/tables/{table_id}/workers/{worker_id}/block", summary="Block a worker", responses=errors(404, 422)
    )
    async def block(table_id: str, worker_id: str) -> dict[str, Any]:
        await roster.block(table_id, worker_id)
        await sockets.kick(table_id, worker_id, "worker_blocked", "the requester blocked you from this table")
        return {"worker_id": worker_id, "blocked": True}

    @router.delete(
        "/tables/{table_id}/workers/{worker_id}/block", summary="Unblock a worker", responses=errors(404, 422)
    )
    async def unblock(table_id: str, worker_id: str) -> dict[str, Any]:
        # Sessions closed by the block stay closed: the worker rejoins by opening their page again.
        await roster.unblock(table_id, worker_id)
        return {"worker_id": worker_id, "blocked": False}

    @router.get(
        "/tables/{table_id}/workers",
        summary="Workers: online, operations, estimated pay",
        responses=errors(404),
    )
    async def list_workers(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        blocked = await roster.blocked(table_id)
        online = sockets.presence.online(table_id)
        screened = await Screenings(tables.store).outcomes(table_id)
        if owner is None:
            return {"workers": with_screening(workers(None, online, blocked), screened)}
        async with owner.lock:
            return {"workers": with_screening(workers(owner, online, blocked), screened)}

    return router
