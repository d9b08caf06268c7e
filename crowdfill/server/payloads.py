"""Socket event payloads (the wire edge): size check, pydantic shapes, and readable errors."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from crowdfill.model import Downvote, Fill, Operation, Retract, Upvote
from crowdfill.server.failures import Failure

_ROW_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
M = TypeVar("M", bound=BaseModel)


class _Payload(BaseModel):
    # Unknown fields (e.g. a forged "worker") are ignored: the worker is always the token's.
    model_config = ConfigDict(extra="ignore")


class FillPayload(_Payload):
    row_id: StrictStr = Field(min_length=1, max_length=64)
    new_row_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    column: StrictStr = Field(min_length=1, max_length=100)
    value: StrictStr | StrictBool | StrictInt | StrictFloat


class VotePayload(_Payload):
    row_id: StrictStr = Field(min_length=1, max_length=64)


def single_payload(args: Sequence[Any], limit: int) -> Any:
    if len(args) != 1:
        raise Failure("malformed", f"send exactly one JSON object as the payload, got {len(args)} arguments")
    payload = args[0]
    try:
        size = len(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    except (TypeError, ValueError) as error:
        raise Failure("malformed", "the payload is not JSON") from error
    if size > limit:
        raise Failure("payload_too_large", f"the payload is {size} bytes; the limit is {limit}")
    if not isinstance(payload, dict):
        raise Failure("malformed", f"the payload must be a JSON object, got {type(payload).__name__}")
    return payload


def parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise Failure("malformed", describe(error)) from error


def describe(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        where = ".".join(str(p) for p in problem["loc"]) or "payload"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def operation(kind: str, worker: str, payload: Any) -> Operation:
    if kind == "fill":
        fill = parse(FillPayload, payload)
        new_row_id = fill.new_row_id or "r" + secrets.token_hex(8)
        if not _ROW_ID.fullmatch(new_row_id):
            raise Failure(
                "malformed", f"new_row_id must be 1 to 64 of A-Z a-z 0-9 _ . : -, got {new_row_id!r}"
            )
        return Fill(worker, fill.row_id, new_row_id, fill.column, fill.value, frozenset())
    vote = parse(VotePayload, payload)
    if kind == "retract":
        # The server's validate finds the sign and values of the worker's own record on the row.
        return Retract(worker, vote.row_id)
    if kind == "upvote":
        return Upvote(worker, vote.row_id, frozenset())
    return Downvote(worker, vote.row_id, frozenset())
