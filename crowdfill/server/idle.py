"""Unloading idle tables: a host with many tables keeps only the ones in use in memory.

A loaded table is idle when nobody asked for it (``Tables.owner``: REST reads, socket joins) for
``Settings.idle_unload_seconds``, no worker or monitor is connected to it and its owner has
nothing queued or running. The sweep unloads it (``Tables.unload``: snapshot, stop, summary);
the next request for it loads it again, from that snapshot, to the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from crowdfill.server.presence import Presence
from crowdfill.server.tables import Tables
from crowdfill.store.port import StoreError

logger = logging.getLogger(__name__)


class IdleUnloader:
    def __init__(self, tables: Tables, presence: Presence, idle_seconds: float) -> None:
        self._tables = tables
        self._presence = presence
        self._idle = idle_seconds
        self._task: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        """How often to look: a quarter of the idle time, at most every 30 s."""
        return min(30.0, max(0.05, self._idle / 4))

    def start(self) -> None:
        if self._idle > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="idle-unloader")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # The loop ends by our cancellation; that CancelledError is the expected outcome.
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except StoreError as error:
                # The tables stay loaded; the next sweep tries again.
                logger.warning("unloading idle tables failed: %s", error)

    async def sweep(self, now: float | None = None) -> list[str]:
        """Unload every idle table; returns their ids."""
        moment = time.monotonic() if now is None else now
        unloaded = []
        for table_id in self._tables.loaded_ids():
            if self._presence.sessions(table_id) or self._presence.has_monitors(table_id):
                # In use: its idle time counts from when the last page left.
                self._tables.touch(table_id, moment)
                continue
            if moment - self._tables.last_used(table_id) < self._idle:
                continue
            if await self._tables.unload(table_id, unused_since=moment):
                unloaded.append(table_id)
        if unloaded:
            logger.info("unloaded %d idle table(s)", len(unloaded))
        return unloaded
