"""Requester endpoints for a table's webhooks: register, list, delete, and read a hook's deliveries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from crowdfill.server.failures import Failure
from crowdfill.server.openapi import BODY
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services
from crowdfill.webhooks import HookError, Hooks, Outbox
from crowdfill.wire.webhooks import Delivery, Hook, HookRequest


def webhooks_router(services: Services, hooks: Hooks, outbox: Outbox) -> APIRouter:
    settings = services.settings
    tables = services.tables

    router = requester_api(
        settings,
        tags=("webhooks",),
        answers=(404, 409, *BODY),
    )

    def known_hook(table_id: str, hook_id: str) -> dict[str, Any]:
        hook = hooks.get(table_id, hook_id)
        if hook is None:
            raise Failure("not_found", f"table {table_id!r} has no webhook {hook_id!r}")
        return hook

    @router.post("/tables/{table_id}/webhooks", status_code=201, summary="Register a webhook")
    async def create(table_id: str, wanted: HookRequest) -> Hook:
        await tables.record(table_id)
        try:
            hook = await hooks.add(table_id, wanted.url, list(wanted.events) if wanted.events else None)
        except HookError as error:
            raise Failure(error.code, error.message) from error
        return Hook.model_validate(hook)

    @router.get("/tables/{table_id}/webhooks", summary="List a table's webhooks")
    async def list_hooks(table_id: str) -> dict[str, list[Hook]]:
        await tables.record(table_id)
        return {"webhooks": [Hook.model_validate(hook) for hook in hooks.of(table_id)]}

    @router.delete("/tables/{table_id}/webhooks/{hook_id}", summary="Delete a webhook")
    async def delete(table_id: str, hook_id: str) -> dict[str, Any]:
        await tables.record(table_id)
        try:
            await hooks.remove(table_id, hook_id)
        except HookError as error:
            raise Failure(error.code, error.message) from error
        return {"hook_id": hook_id, "deleted": True}

    @router.get("/tables/{table_id}/webhooks/{hook_id}/deliveries", summary="A webhook's delivery log")
    async def deliveries(
        table_id: str, hook_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, list[Delivery]]:
        await tables.record(table_id)
        known_hook(table_id, hook_id)
        found = await outbox.deliveries(table_id, hook_id, limit)
        return {"deliveries": [Delivery.model_validate(d) for d in found]}

    return router
