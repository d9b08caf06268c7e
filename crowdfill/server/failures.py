"""The server's own refusals (auth, lifecycle, limits) and how every error becomes a wire error.

Domain errors (``crowdfill.model.errors``) keep their codes; these add the ones only the server
knows. ``http_status`` is the single place mapping codes to HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crowdfill.model.errors import CrowdFillError, InvalidDefinition, MalformedMessage

_STATUS = {
    "malformed": 422,
    "bad_json": 400,
    "payload_too_large": 413,
    "unauthorized": 401,
    "token_invalid": 401,
    "token_expired": 401,
    "token_foreign": 403,
    "link_revoked": 403,
    "worker_blocked": 403,
    "screening_required": 403,
    "screening_failed": 403,
    "screening_not_required": 409,
    "signature_missing": 403,
    "signature_invalid": 403,
    "hit_foreign": 403,
    "not_found": 404,
    "table_not_found": 404,
    "page_missing": 404,
    "table_not_draft": 409,
    "table_not_live": 409,
    "table_closed": 409,
    "filler_not_counted": 403,
    "preview": 422,
    "rate_limited": 429,
    "row_replaced": 409,
    "worker_not_found": 404,
    "reweigh_stale": 409,
    "overloaded": 503,
    "store_unavailable": 503,
}


class Failure(Exception):
    """A refusal with a stable code and a message a person can act on.

    ``details``: machine-readable fields that go next to ``code`` and ``message`` on the wire
    (e.g. ``retry_after_ms`` of ``rate_limited``, ``replaced_by`` of ``row_replaced``).
    """

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


def http_status(code: str) -> int:
    return _STATUS.get(code, 422)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def as_failure(error: CrowdFillError | Failure) -> Failure:
    if isinstance(error, Failure):
        return error
    return Failure(error.code, error.message)


def definition_failure(error: CrowdFillError) -> Failure:
    """A domain error raised while building a table definition, as a 422."""
    if isinstance(error, InvalidDefinition | MalformedMessage):
        return Failure(error.code, error.message)
    # Column or value errors inside a definition (e.g. a template value of the wrong type) are
    # still the definition's fault.
    return Failure("invalid_definition", error.message)
