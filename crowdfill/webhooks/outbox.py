"""The durable outbox: an event becomes one stored delivery per subscribed hook before anyone sends it.

Layout in the store's keyed items:
- ``(table_id, "webhook_delivery", delivery_id)``: the delivery (its event, state and attempts), the
  hook's delivery log;
- ``("~webhooks", "pending", delivery_id)``: an index of the deliveries still to send, across tables,
  which the dispatcher reads at startup. Delivery ids start with the time, so keys sort by age.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from crowdfill.store.port import JSON, Store
from crowdfill.webhooks.hooks import Hooks

DELIVERY_KIND = "webhook_delivery"
PENDING_NAMESPACE = "~webhooks"
PENDING_KIND = "pending"


class Scheduler(Protocol):
    def schedule(self, delivery_id: str, table_id: str, due: float) -> None: ...


class Outbox:
    def __init__(self, store: Store, hooks: Hooks, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._hooks = hooks
        self._clock = clock
        self.scheduler: Scheduler | None = None
        self._last_tick = 0

    def _new_delivery_id(self, now: float) -> str:
        # Strictly increasing milliseconds: the keys sort in the order the events happened.
        self._last_tick = max(int(now * 1000), self._last_tick + 1)
        return f"d-{self._last_tick:015d}-{secrets.token_hex(4)}"

    async def publish(self, table_id: str, event_type: str, data: dict[str, Any]) -> JSON | None:
        """Store the event for every hook of the table that wants it; the event, or None if none does."""
        targets = [hook for hook in self._hooks.of(table_id) if event_type in hook["events"]]
        if not targets:
            return None
        now = self._clock()
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "type": event_type,
            "table_id": table_id,
            "created_at": now,
            "data": data,
        }
        for hook in targets:
            delivery_id = self._new_delivery_id(now)
            delivery = {
                "delivery_id": delivery_id,
                "hook_id": hook["hook_id"],
                "event_id": event["id"],
                "type": event_type,
                "state": "pending",
                "attempts": [],
                "next_attempt_at": now,
                "event": event,
            }
            await self._store.put_item(table_id, DELIVERY_KIND, delivery_id, delivery)
            await self._store.put_item(PENDING_NAMESPACE, PENDING_KIND, delivery_id, {"table_id": table_id})
            if self.scheduler is not None:
                self.scheduler.schedule(delivery_id, table_id, now)
        return event

    async def deliveries(self, table_id: str, hook_id: str, limit: int) -> list[JSON]:
        """The hook's deliveries, newest first."""
        items = await self._store.list_items(table_id, DELIVERY_KIND)
        mine = [value for _, value in reversed(items) if value.get("hook_id") == hook_id]
        return mine[:limit]
