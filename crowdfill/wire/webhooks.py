"""Webhooks on the wire: registering a hook, the hook and its deliveries, the event envelope.

The event types and the signature header are documented in docs/protocol.md ("Webhooks").
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

EventType = Literal[
    "table.launched",
    "row.final",
    "table.completed",
    "table.closed",
    "worker.joined",
    "worker.blocked",
    "payment.settled",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "table.launched",
    "row.final",
    "table.completed",
    "table.closed",
    "worker.joined",
    "worker.blocked",
    "payment.settled",
)
SIGNATURE_HEADER = "CrowdFill-Signature"
EVENT_ID_HEADER = "CrowdFill-Event-Id"


class HookRequest(BaseModel):
    """``POST /api/tables/{id}/webhooks``: where to send which events (all of them by default)."""

    model_config = ConfigDict(extra="forbid")

    url: StrictStr = Field(min_length=1, max_length=2000)
    events: list[EventType] | None = Field(default=None, min_length=1)


class _Answer(BaseModel):
    # Answers may gain fields; an older SDK keeps working and shows them as extras.
    model_config = ConfigDict(extra="allow")


class Hook(_Answer):
    hook_id: str
    table_id: str
    url: str
    events: list[str]
    secret: str
    created_at: float


class Attempt(_Answer):
    at: float
    status_code: int | None = None
    error: str | None = None


class Delivery(_Answer):
    delivery_id: str
    hook_id: str
    event_id: str
    type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: list[Attempt] = Field(default_factory=list)
    next_attempt_at: float | None = None
    event: dict[str, Any]


class Event(_Answer):
    """What a receiver gets: ``id`` is the same on every retry of the event (de-duplicate on it)."""

    id: str
    type: str
    table_id: str
    created_at: float
    data: dict[str, Any]
