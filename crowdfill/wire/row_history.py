"""The answer of ``GET /api/tables/{id}/rows/{row_id}/history`` (docs/protocol.md, "Row history")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crowdfill.wire.answers import Answer


class RowEvent(Answer):
    seq: int
    at: float
    type: Literal["insert", "fill", "upvote", "downvote", "retract"]
    worker: str
    column: str | None = None
    value: Any = None
    upvote: bool = False
    values: dict[str, Any] = Field(default_factory=dict)
    kind: Literal["up", "down"] | None = None
    # Absent for the operations that made the row; else "this row" or "part of this row".
    on: str | None = None


class RowHistory(Answer):
    row_id: str
    values: dict[str, Any]
    history: list[RowEvent]
