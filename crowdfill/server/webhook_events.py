"""When a table's webhook events happen: the owner's listener points, launches, joins and blocks.

``WebhookEvents`` wraps the owners' listener (the socket fan-out) and adds the events to the
outbox after the batch that caused them is durable. Tables without hooks cost one dict lookup.

- ``row.final``: after each batch, the final table is compared with the last one announced (kept
  in the store, so a restart neither repeats nor loses a change); each row that entered or left it
  is one event. The first batch after a hook is registered announces every row then final.
- ``worker.joined``: the first admission of a worker to the table after a hook exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from crowdfill.server.owner import CLOSED, TableOwner
from crowdfill.server.owner import OwnerListener as OwnerListener
from crowdfill.server.views import plain_rows
from crowdfill.store.port import Store, StoreError
from crowdfill.webhooks import Hooks, Outbox

logger = logging.getLogger(__name__)

FINAL_STATE_KIND = "webhook_final"
JOINED_KIND = "webhook_joined"


class WebhookEvents:
    """An ``OwnerListener`` (around ``inner``) and the ``TableEvents`` of tables and the roster."""

    def __init__(self, inner: OwnerListener, store: Store, hooks: Hooks, outbox: Outbox) -> None:
        self._inner = inner
        self._store = store
        self._hooks = hooks
        self._outbox = outbox
        self._final: dict[str, set[str]] = {}

    async def _emit(self, table_id: str, event_type: str, data: dict[str, Any]) -> None:
        try:
            await self._outbox.publish(table_id, event_type, {"table_id": table_id, **data})
        except StoreError as error:
            # The table's own change is durable and stands; only its notification is lost.
            logger.error("table %s: could not queue webhook event %s (%s)", table_id, event_type, error)
        except Exception:
            # Launching, admitting or blocking must not fail because a notification did.
            logger.exception("table %s: queuing webhook event %s failed", table_id, event_type)

    # ---------------------------------------------------------------- OwnerListener
    async def published(self, owner: TableOwner, entries: Sequence[Any]) -> None:
        await self._inner.published(owner, entries)
        if self._hooks.any(owner.table_id):
            try:
                await self._final_changes(owner)
            except Exception:
                # The batch is durable and about to be acknowledged: a fault in its notifications
                # must not make the owner refuse it (the owner refuses batches that raise).
                logger.exception("table %s: webhook events for a batch failed", owner.table_id)

    async def completed(self, owner: TableOwner) -> None:
        await self._inner.completed(owner)
        if self._hooks.any(owner.table_id):
            try:
                await self._finished(owner)
            except Exception:
                # As in ``published``: the table is finished and settled whatever the notifications do.
                logger.exception("table %s: webhook events for the end of collection failed", owner.table_id)

    async def _finished(self, owner: TableOwner) -> None:
        table_id = owner.table_id
        await self._final_changes(owner)
        kind = "table.closed" if owner.status == CLOSED else "table.completed"
        await self._emit(
            table_id,
            kind,
            {
                "status": owner.status,
                "seq": owner.seq,
                "satisfied": bool(owner.central.satisfied),
                "final_rows": len(owner.table.final_table()),
            },
        )
        if owner.settlement is not None:
            await self._emit(table_id, "payment.settled", {"seq": owner.seq, **owner.settlement.to_dict()})

    def changed(self, owner: TableOwner) -> None:
        self._inner.changed(owner)

    async def _final_changes(self, owner: TableOwner) -> None:
        table_id = owner.table_id
        try:
            before = await self._announced(table_id)
        except StoreError as error:
            logger.error("table %s: cannot read the announced final rows (%s)", table_id, error)
            return
        rows = {row["row_id"]: row["values"] for row in plain_rows(owner.table, final=True)}
        now = set(rows)
        if now == before:
            return
        for row_id in sorted(now - before):
            await self._emit(
                table_id,
                "row.final",
                {"seq": owner.seq, "row_id": row_id, "final": True, "values": rows[row_id]},
            )
        for row_id in sorted(before - now):
            await self._emit(table_id, "row.final", {"seq": owner.seq, "row_id": row_id, "final": False})
        self._final[table_id] = now
        try:
            await self._store.put_item(
                table_id, FINAL_STATE_KIND, "rows", {"rows": sorted(now), "seq": owner.seq}
            )
        except StoreError as error:
            logger.error("table %s: cannot keep the announced final rows (%s)", table_id, error)

    async def _announced(self, table_id: str) -> set[str]:
        known = self._final.get(table_id)
        if known is None:
            stored = await self._store.get_item(table_id, FINAL_STATE_KIND, "rows")
            known = set(stored["rows"]) if stored is not None else set()
            self._final[table_id] = known
        return known

    # ---------------------------------------------------------------- TableEvents
    async def table_launched(self, table_id: str) -> None:
        await self._emit(table_id, "table.launched", {"status": "live"})

    async def worker_admitted(self, table_id: str, worker_id: str) -> None:
        if not self._hooks.any(table_id):
            return
        try:
            if await self._store.get_item(table_id, JOINED_KIND, worker_id) is not None:
                return
            await self._store.put_item(table_id, JOINED_KIND, worker_id, {"worker_id": worker_id})
        except StoreError as error:
            logger.error("table %s: cannot record that %s joined (%s)", table_id, worker_id, error)
            return
        await self._emit(table_id, "worker.joined", {"worker_id": worker_id})

    async def worker_blocked(self, table_id: str, worker_id: str) -> None:
        await self._emit(table_id, "worker.blocked", {"worker_id": worker_id})
