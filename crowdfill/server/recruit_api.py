"""Requester endpoints that sign the URLs given to MTurk and Prolific (see ``recruit``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from crowdfill.markets.identity import BATCH_PARAM, SIGNATURE_PARAM
from crowdfill.server.openapi import BODY
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services

_ID = Field(min_length=1, max_length=64)
# Prolific replaces these placeholders with the participant's, study's and session's ids.
PROLIFIC_PLACEHOLDERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"


class MTurkUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["mturk"]


class ProlificUrlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["prolific"]
    study_id: Annotated[StrictStr, _ID]


UrlRequest = Annotated[MTurkUrlRequest | ProlificUrlRequest, Body(discriminator="platform")]


class BatchHits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hit_ids: list[Annotated[StrictStr, _ID]] = Field(min_length=1, max_length=1000)


def recruit_router(services: Services) -> APIRouter:
    settings = services.settings
    roster = services.roster

    router = requester_api(
        settings,
        answers=(404, 409, *BODY),
    )

    @router.post(
        "/tables/{table_id}/recruit-urls",
        status_code=201,
        summary="A signed worker page URL for an MTurk publish batch or a Prolific study",
    )
    async def recruit_url(request: Request, table_id: str, wanted: UrlRequest) -> dict[str, Any]:
        page = f"{services.base_url(request)}/w/{table_id}"
        if isinstance(wanted, MTurkUrlRequest):
            batch, signature = await roster.mturk_batch(table_id)
            query = {BATCH_PARAM: batch, SIGNATURE_PARAM: signature}
            return {
                "platform": "mturk",
                "batch": batch,
                "signature": signature,
                "query": query,
                "url": f"{page}?{urlencode(query)}",
            }
        signature = await roster.prolific_signature(table_id, wanted.study_id)
        query = {SIGNATURE_PARAM: signature}
        return {
            "platform": "prolific",
            "study_id": wanted.study_id,
            "signature": signature,
            "query": query,
            "url": f"{page}?{urlencode(query)}&{PROLIFIC_PLACEHOLDERS}",
        }

    @router.post(
        "/tables/{table_id}/recruit-urls/{batch}/hits", summary="Record the HITs created for a publish batch"
    )
    async def batch_hits(table_id: str, batch: str, body: BatchHits) -> dict[str, Any]:
        return {"batch": batch, "hit_ids": await roster.record_batch_hits(table_id, batch, body.hit_ids)}

    return router
