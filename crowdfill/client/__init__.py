"""The requester SDK: every requester endpoint of a CrowdFill server, sync (``Client``) and async
(``AsyncClient``), with the server's own wire models (``crowdfill.wire``). See docs/sdk.md.
"""

from __future__ import annotations

from crowdfill.client.aio import AsyncClient
from crowdfill.client.errors import (
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    ServerError,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
    WrongState,
)
from crowdfill.client.signature import verify_signature
from crowdfill.client.sync import Client
from crowdfill.client.transport import DEFAULT_SERVER, Retry
from crowdfill.wire.answers import FINISHED_STATUSES
from crowdfill.wire.definition import DefinitionModel, DefinitionPatch, GoldRowModel

__all__ = [
    "DEFAULT_SERVER",
    "FINISHED_STATUSES",
    "AsyncClient",
    "Client",
    "ConnectionFailed",
    "DefinitionModel",
    "DefinitionPatch",
    "GoldRowModel",
    "InvalidRequest",
    "NotFound",
    "Retry",
    "ServerError",
    "Unauthorized",
    "Unavailable",
    "UnexpectedAnswer",
    "WrongState",
    "verify_signature",
]
