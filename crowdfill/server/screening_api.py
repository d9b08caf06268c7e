"""The worker's side of screening (crowdfill.server.screening): read the qualification, answer it.

Both endpoints take the worker's session token (``Authorization: Bearer <session token>``), the
one the worker page connects with; the requester token is not needed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from crowdfill.server import screening
from crowdfill.server.failures import Failure
from crowdfill.server.openapi import BODY, errors
from crowdfill.server.screening import Screenings
from crowdfill.server.services import Services
from crowdfill.server.tokens import WorkerClaims


class ScreeningAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Question id (q1, q2, ...) -> "up" (the row is right) or "down" (it is wrong).
    answers: dict[str, Literal["up", "down"]] = Field(max_length=100)


def screening_router(services: Services) -> APIRouter:
    tables = services.tables
    roster = services.roster
    screenings = Screenings(tables.store)
    router = APIRouter(prefix="/api", tags=["public", "screening"], responses=errors(401, 403, 404, 422))

    async def claims_of(table_id: str, authorization: str | None) -> WorkerClaims:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Failure(
                "token_invalid", "send the worker's session token as 'Authorization: Bearer <token>'"
            )
        return await roster.admit(token.strip(), table_id)

    @router.get("/tables/{table_id}/screening", summary="The worker's qualification: status and rows")
    async def read(table_id: str, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        claims = await claims_of(table_id, authorization)
        spec = tables.spec(await tables.record(table_id))
        outcome = await screenings.outcome(table_id, claims.worker_id)
        answer = screening.public(outcome, spec)
        if answer["status"] == screening.PENDING and spec.screening is not None:
            answer["rows"] = screening.questions(spec, table_id, claims.worker_id)
            answer["pass_fraction"] = spec.screening.pass_fraction
            answer["schema"] = spec.schema_json()
        return answer

    @router.post(
        "/tables/{table_id}/screening",
        summary="Answer the qualification (once)",
        responses=errors(409, *BODY),
    )
    async def answer(
        table_id: str, body: ScreeningAnswers, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        claims = await claims_of(table_id, authorization)
        spec = tables.spec(await tables.record(table_id))
        kept = await screenings.outcome(table_id, claims.worker_id)
        if kept is None:
            outcome = screening.grade(spec, table_id, claims.worker_id, dict(body.answers))
            kept = await screenings.record(table_id, claims.worker_id, outcome)
        return screening.public(kept, spec)

    return router
