"""Webhooks: requester-registered URLs that receive a table's events, signed, at least once.

``Hooks`` keeps the registrations; ``Outbox`` turns an event into one durable delivery per hook
and ``Dispatcher`` sends them, retrying with backoff, from the store (so a restart loses none).
The server (``crowdfill.server.webhook_events``) decides when an event happens.
"""

from __future__ import annotations

from crowdfill.webhooks.dispatch import Dispatcher, RetryPolicy
from crowdfill.webhooks.hooks import HookError, Hooks
from crowdfill.webhooks.outbox import Outbox

__all__ = ["Dispatcher", "HookError", "Hooks", "Outbox", "RetryPolicy"]
