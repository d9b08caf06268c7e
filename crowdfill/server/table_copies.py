"""``POST /api/tables/{id}/duplicate``: a new draft with another table's definition.

A requester running the same collection again (another budget, a fixed typo in the instructions)
starts from a copy rather than retyping the schema and template. Any table can be copied, live or
finished; the copy is always a draft, with no rows, links or workers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from crowdfill.server.definition import DefinitionModel
from crowdfill.server.openapi import errors
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services
from crowdfill.server.views import table_json

COPY_SUFFIX = " (copy)"
MAX_NAME = 200  # DefinitionModel's limit on a table's name


def copy_name(name: str) -> str:
    """``name (copy)``, shortened so the copy's name stays within the definition's limit."""
    return name[: MAX_NAME - len(COPY_SUFFIX)] + COPY_SUFFIX


def table_copies_router(services: Services) -> APIRouter:
    settings = services.settings
    tables = services.tables

    router = requester_api(settings)

    @router.post(
        "/tables/{table_id}/duplicate",
        status_code=201,
        summary="Copy a table's definition into a new draft",
        responses=errors(404),
    )
    async def duplicate(request: Request, table_id: str) -> dict[str, Any]:
        source = await tables.record(table_id)
        definition = dict(source.definition)
        definition["name"] = copy_name(str(definition.get("name", table_id)))
        copy = await tables.create(DefinitionModel.model_validate(definition))
        online = services.sockets.presence.online(copy.table_id)
        return table_json(copy, None, online, services.base_url(request))

    return router
