"""Sending the outbox: POST each pending delivery, signed; retry failures with exponential backoff.

One asyncio task (started and stopped by the server's lifespan) keeps a heap of due times. Each
attempt is recorded in the delivery before the next is scheduled, so the delivery log shows every
try, and a restart picks up what is still pending from the store's index. A delivery is sent again
if the server stops between the receiver's answer and its recording: receivers de-duplicate on the
event id.

The HTTP client (httpx, and the SDK's signing) is imported and opened at the first delivery, not
at startup: most servers send none, and it is a tenth of a second of every start.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crowdfill import __version__
from crowdfill.store.port import Store, StoreError
from crowdfill.webhooks.hooks import Hooks
from crowdfill.webhooks.outbox import DELIVERY_KIND, PENDING_KIND, PENDING_NAMESPACE
from crowdfill.wire.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: float = 5.0
    cap: float = 3600.0
    max_attempts: int = 12
    timeout: float = 10.0
    concurrency: int = 8

    def delay(self, attempts_made: int) -> float:
        """The wait after the ``attempts_made``-th failed attempt."""
        return float(min(self.cap, self.first_delay * 2 ** max(0, attempts_made - 1)))


class Dispatcher:
    def __init__(
        self,
        store: Store,
        hooks: Hooks,
        policy: RetryPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._hooks = hooks
        self.policy = policy
        self._clock = clock
        self._transport = transport
        self._due: list[tuple[float, str, str]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(policy.concurrency)

    def schedule(self, delivery_id: str, table_id: str, due: float) -> None:
        heapq.heappush(self._due, (due, delivery_id, table_id))
        self._wake.set()

    async def start(self) -> None:
        """Schedule every pending delivery in the store, then start sending."""
        for delivery_id, entry in await self._store.list_items(PENDING_NAMESPACE, PENDING_KIND):
            table_id = str(entry.get("table_id", ""))
            delivery = await self._store.get_item(table_id, DELIVERY_KIND, delivery_id)
            if delivery is None or delivery.get("state") != "pending":
                await self._store.delete_item(PENDING_NAMESPACE, PENDING_KIND, delivery_id)
                continue
            self.schedule(delivery_id, table_id, float(delivery.get("next_attempt_at") or 0.0))
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            # Cancelled on purpose; an attempt cut short stays pending and is sent after a restart.
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            now = self._clock()
            while self._due and self._due[0][0] <= now:
                _, delivery_id, table_id = heapq.heappop(self._due)
                task = asyncio.get_running_loop().create_task(self._attempt(delivery_id, table_id))
                self._inflight.add(task)
                task.add_done_callback(self._finished)
            self._wake.clear()
            timeout = self._due[0][0] - now if self._due else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a webhook delivery failed unexpectedly", exc_info=task.exception())

    async def _attempt(self, delivery_id: str, table_id: str) -> None:
        async with self._slots:
            try:
                await self._send(delivery_id, table_id)
            except StoreError as error:
                # The outcome could not be recorded: try again later (the receiver may see it twice).
                logger.error("webhook delivery %s: storage failed (%s); retrying", delivery_id, error)
                self.schedule(delivery_id, table_id, self._clock() + self.policy.first_delay)

    async def _send(self, delivery_id: str, table_id: str) -> None:
        delivery = await self._store.get_item(table_id, DELIVERY_KIND, delivery_id)
        if delivery is None or delivery.get("state") != "pending":
            await self._store.delete_item(PENDING_NAMESPACE, PENDING_KIND, delivery_id)
            return
        hook = self._hooks.get(table_id, str(delivery["hook_id"]))
        now = self._clock()
        attempt: dict[str, Any] = {"at": now, "status_code": None, "error": None}
        if hook is None:
            attempt["error"] = "the hook was deleted"
            delivered, final = False, True
        else:
            delivered = await self._post(hook, delivery["event"], attempt)
            final = delivered or len(delivery["attempts"]) + 1 >= self.policy.max_attempts
        attempts = [*delivery["attempts"], attempt]
        if delivered:
            state, next_at = "delivered", None
        elif final:
            state, next_at = "failed", None
        else:
            state, next_at = "pending", now + self.policy.delay(len(attempts))
        await self._store.put_item(
            table_id,
            DELIVERY_KIND,
            delivery_id,
            {**delivery, "state": state, "attempts": attempts, "next_attempt_at": next_at},
        )
        if next_at is None:
            await self._store.delete_item(PENDING_NAMESPACE, PENDING_KIND, delivery_id)
        else:
            self.schedule(delivery_id, table_id, next_at)

    async def _post(self, hook: dict[str, Any], event: dict[str, Any], attempt: dict[str, Any]) -> bool:
        """One POST; whether the receiver took it (any 2xx). Fills in ``attempt``."""
        import httpx  # imported at the first delivery (see the module's docstring)

        from crowdfill.client.signature import sign  # same reason: the SDK package imports httpx

        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self.policy.timeout, transport=self._transport, follow_redirects=False
            )
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"CrowdFill-Webhooks/{__version__}",
            EVENT_ID_HEADER: str(event["id"]),
            SIGNATURE_HEADER: sign(str(hook["secret"]), int(self._clock()), body),
        }
        try:
            response = await self._http.post(str(hook["url"]), content=body, headers=headers)
        except httpx.HTTPError as error:
            attempt["error"] = f"{type(error).__name__}: {error}"[:300] or type(error).__name__
            return False
        attempt["status_code"] = response.status_code
        return 200 <= response.status_code < 300
