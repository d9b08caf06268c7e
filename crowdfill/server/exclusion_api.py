"""Requester endpoints for reputation: every worker's estimate, and exclusion by hand (and undo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crowdfill.server.failures import Failure
from crowdfill.server.owner import TableOwner
from crowdfill.server.reputation_service import ReputationService
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services


def reputation_router(services: Services, reputation: ReputationService) -> APIRouter:
    tables = services.tables
    router = requester_api(services.settings, answers=(404, 409))

    async def owner_of(table_id: str) -> TableOwner:
        await tables.record(table_id)
        owner = await tables.owner(table_id)
        if owner is None:
            raise Failure("table_not_live", f"table {table_id!r} is a draft; nobody has worked on it yet")
        return owner

    @router.get("/tables/{table_id}/reputation", summary="Every worker's reputation estimate and weight")
    async def get_reputation(table_id: str) -> dict[str, Any]:
        owner = await owner_of(table_id)
        quality = owner.spec.quality
        async with owner.lock:
            rows = reputation.rows(owner)
            seq = owner.seq
        return {
            "table_id": table_id,
            "scoring": owner.spec.scoring.family,
            "quality": {
                "floor": quality.floor,
                "step": quality.step,
                "every_ops": quality.every_ops,
                "every_seconds": quality.every_seconds,
            },
            "seq": seq,
            "workers": rows,
        }

    @router.post(
        "/tables/{table_id}/workers/{worker_id}/exclusion",
        summary="Exclude a worker: their votes stop counting and their work is not paid",
    )
    async def exclude_worker(table_id: str, worker_id: str) -> dict[str, Any]:
        return await reputation.exclude(await owner_of(table_id), worker_id)

    @router.delete(
        "/tables/{table_id}/workers/{worker_id}/exclusion",
        summary="Undo a worker's exclusion: their votes count again",
    )
    async def include_worker(table_id: str, worker_id: str) -> dict[str, Any]:
        return await reputation.include(await owner_of(table_id), worker_id)

    return router
