"""The one way a requester router is made: under ``/api``, behind the requester token, documented.

Every requester endpoint module (tables, recruiting, webhooks, row history, copies) starts from
``requester_api``, so the token check and the documented error answers cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header

from crowdfill.server.failures import Failure
from crowdfill.server.http import bearer_ok
from crowdfill.server.openapi import errors
from crowdfill.server.settings import Settings


def requester_api(
    settings: Settings, *, tags: tuple[str, ...] = (), answers: tuple[int, ...] = ()
) -> APIRouter:
    """A router whose every operation needs the requester token.

    ``answers``: error statuses every operation of the router may give besides 401 and 422.
    FastAPI documents a 422 for every operation with a parameter (the token header is one); naming
    it here gives it the real error body instead of FastAPI's validation shape.
    """

    def require_requester(authorization: Annotated[str | None, Header()] = None) -> None:
        if not bearer_ok(authorization, settings.requester_token):
            raise Failure("unauthorized", "send the requester token as 'Authorization: Bearer <token>'")

    return APIRouter(
        prefix="/api",
        dependencies=[Depends(require_requester)],
        tags=["requester", *tags],
        responses=errors(401, 422, *answers),
    )
