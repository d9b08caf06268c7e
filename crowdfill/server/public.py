"""Public endpoints (no requester token): what a worker page needs before and to join a table."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from crowdfill.server.failures import Failure
from crowdfill.server.openapi import BODY, errors
from crowdfill.server.owner import DRAFT
from crowdfill.server.services import Services
from crowdfill.server.views import plain_rows, template_rows

_ID = Field(min_length=1, max_length=64)


class MTurkSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["mturk"]
    worker_id: Annotated[StrictStr, _ID]
    assignment_id: Annotated[StrictStr, _ID]
    hit_id: Annotated[StrictStr, _ID]
    # From the signed ExternalQuestion URL (``cf_batch`` / ``cf_sig``); missing ones are refused
    # by the roster with ``signature_missing``, a clearer answer than a schema error.
    batch: Annotated[StrictStr, _ID] | None = None
    signature: Annotated[StrictStr, Field(max_length=100)] | None = None


class ProlificSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["prolific"]
    worker_id: Annotated[StrictStr, _ID]
    study_id: Annotated[StrictStr, _ID]
    session_id: Annotated[StrictStr, _ID]
    signature: Annotated[StrictStr, Field(max_length=100)] | None = None


SessionRequest = Annotated[MTurkSession | ProlificSession, Body(discriminator="platform")]


def public_router(services: Services) -> APIRouter:
    tables = services.tables
    roster = services.roster
    router = APIRouter(prefix="/api", tags=["public"], responses=errors(422))

    @router.get(
        "/tables/{table_id}/public",
        summary="What the worker page shows (no token needed)",
        responses=errors(404, 422),
    )
    async def public_table(
        table_id: str,
        rows: Annotated[bool, Query(description="also send the current rows (values only)")] = False,
    ) -> dict[str, Any]:
        record = await tables.record(table_id)
        if record.status == DRAFT:
            # Drafts are private until launched: indistinguishable from a missing table.
            raise Failure("table_not_found", f"no table with id {table_id!r}")
        spec = tables.spec(record)
        owner = await tables.owner(table_id) if rows else tables.loaded(table_id)
        answer: dict[str, Any] = {
            "id": table_id,
            "name": spec.name,
            "instructions": spec.instructions,
            "schema": spec.schema_json(),
            "template": template_rows(spec.schema, spec.template),
            "status": owner.status if owner is not None else record.status,
            "prolific_completion_code": spec.prolific_completion_code,
            "prolific_completion_url": spec.prolific_completion_url,
        }
        if rows:
            # Opt-in (an MTurk preview asks for it): a joining worker gets the rows in the snapshot
            # anyway, and large tables should not be sent twice. Values only: vote counts stay hidden
            # from workers, as on the socket.
            answer["rows"] = []
            if owner is not None:
                async with owner.lock:
                    answer["rows"] = plain_rows(owner.table)
        return answer

    @router.post(
        "/tables/{table_id}/sessions",
        status_code=201,
        summary="A session for an MTurk/Prolific worker",
        responses=errors(403, 404, 409, *BODY),
    )
    async def platform_session(table_id: str, request: SessionRequest) -> dict[str, Any]:
        batch = None
        if isinstance(request, MTurkSession):
            ids = {"assignment_id": request.assignment_id, "hit_id": request.hit_id}
            batch = request.batch
        else:
            ids = {"study_id": request.study_id, "session_id": request.session_id}
        worker, token = await roster.platform_session(
            table_id, request.platform, request.worker_id, ids, request.signature, batch
        )
        return {"token": token, "worker_id": worker}

    return router
