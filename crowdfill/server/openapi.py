"""The error answers each REST operation documents in /openapi.json (one body shape for all)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every 4xx/5xx body: ``{"error": {"code", "message"}}`` (docs/protocol.md, error codes)."""

    error: ErrorDetail


_MEANING = {
    400: "`bad_json`: the body is not valid JSON",
    401: "`unauthorized`: the requester token is missing or wrong",
    403: "`worker_blocked`: the requester blocked this worker",
    404: "`table_not_found` / `not_found`: no such table, link, worker, block or export",
    409: "`table_not_draft` / `table_not_live`: the table is not in a state that allows this",
    413: "`payload_too_large`: the body is over the server's limit",
    422: "`malformed` (the message names the field) or a definition's own code",
}

BODY = (400, 413, 422)
"""What any operation that reads a JSON body can answer."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``statuses``, each with the shared error body."""
    return {status: {"model": ErrorBody, "description": _MEANING[status]} for status in sorted(statuses)}
