"""``DELETE /api/tables/{id}``: throw away a draft (a typo'd schema, a test table).

Only drafts: a launched table has rows, workers and money attached, and is closed instead (409
``table_not_draft``). The deleted draft is gone from the list and every read answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from crowdfill.server.openapi import errors
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services


def draft_delete_router(services: Services) -> APIRouter:
    tables = services.tables
    router = requester_api(services.settings)

    @router.delete(
        "/tables/{table_id}", status_code=204, summary="Delete a draft table", responses=errors(404, 409)
    )
    async def delete_draft(table_id: str) -> Response:
        await tables.delete(table_id)
        return Response(status_code=204)

    return router
