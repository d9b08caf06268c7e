"""Assistant errors, in the model's hierarchy so the edge maps them like any domain error."""

from __future__ import annotations

from crowdfill.model.errors import CrowdFillError, InvalidDefinition


class AssistantError(CrowdFillError):
    """A model call that gave no usable answer; the table goes on without it."""

    code = "assistant_error"


class AssistantUnavailable(AssistantError):
    """The model did not answer: down, timed out, or failing (5xx) after the retries."""

    code = "assistant_unavailable"


class BadAssistantReply(AssistantError):
    """The model answered, but not in the contract's shape (not JSON, wrong fields, a 4xx)."""

    code = "assistant_bad_reply"


class InvalidAssistant(InvalidDefinition):
    """An assistant the requester named cannot be loaded or configured."""

    code = "invalid_assistant"
