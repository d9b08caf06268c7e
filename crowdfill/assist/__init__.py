"""Models in the loop: a port for a model attached to a table, and its adapters (DESIGN §7).

The port (``Assistant``) is what the server's runner calls; the adapters are the built-in
sentiment model (``vader``), any model server over HTTP (``http``) and a requester's own Python
object (``module:attr`` or an entry point in the ``crowdfill.assistants`` group).
"""

from __future__ import annotations

from crowdfill.assist.errors import AssistantError, AssistantUnavailable, BadAssistantReply, InvalidAssistant
from crowdfill.assist.loading import ENTRY_POINT_GROUP, load_assistant
from crowdfill.assist.port import Assistant, Prediction, Suggestion

__all__ = [
    "ENTRY_POINT_GROUP",
    "Assistant",
    "AssistantError",
    "AssistantUnavailable",
    "BadAssistantReply",
    "InvalidAssistant",
    "Prediction",
    "Suggestion",
    "load_assistant",
]
