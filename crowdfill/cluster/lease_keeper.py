"""Holding one table's lease: take it, renew it in the background, and say at once when it is lost.

A building block of the several-process server (docs/deploy.md): ``Ownership`` keeps one per table.
The owner appends with ``keeper.epoch``; the store refuses that epoch once another process took
the lease over, so losing the lease can never let two owners append. The keeper's job is only
liveness: renew early (every ttl/3), and give the lease up locally before it can expire, so
that the owner stops serving before another process may start.

A renewal that fails because the store is unreachable is retried until the lease would have
expired by this process's clock; then the keeper reports it lost (another process may take it
from then on, and this one cannot tell).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from crowdfill.store.port import Lease, Store, StoreError

logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 5.0


class LeaseKeeper:
    def __init__(
        self,
        store: Store,
        table_id: str,
        holder: str,
        *,
        ttl: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"a lease ttl must be > 0 seconds, not {ttl}")
        self._store = store
        self.table_id = table_id
        self.holder = holder
        self.ttl = ttl
        self._clock = clock
        self._lease: Lease | None = None
        self._renewing: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()
        """Set when a held lease was lost (taken over, or not renewed in time)."""

    @property
    def epoch(self) -> int | None:
        """The epoch to append with while the lease is held, else None."""
        return None if self._lease is None else self._lease.epoch

    async def acquire(self) -> Lease | None:
        """Take the lease (or extend our own) and start renewing it; None while another holds it."""
        lease = await self._store.acquire_lease(self.table_id, self.holder, ttl=self.ttl, now=self._clock())
        if lease is None:
            return None
        self._lease = lease
        self.lost.clear()
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name=f"lease:{self.table_id}")
        return lease

    async def release(self) -> None:
        """Stop renewing and free the lease for another process at once (a clean shutdown)."""
        lease = self._lease
        await self._stop_renewing()
        self._lease = None
        if lease is not None:
            await self._store.release_lease(self.table_id, self.holder, lease.epoch)

    async def abandon(self) -> None:
        """Stop renewing without telling the store (the lease then expires after its ttl)."""
        await self._stop_renewing()
        self._lease = None

    async def _stop_renewing(self) -> None:
        task, self._renewing = self._renewing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew(self) -> None:
        while self._lease is not None:
            await asyncio.sleep(self.ttl / 3)
            lease = self._lease
            now = self._clock()
            try:
                renewed = await self._store.renew_lease(
                    self.table_id, self.holder, lease.epoch, ttl=self.ttl, now=now
                )
            except StoreError as error:
                # Keep the lease while it cannot have expired; past that, another process may hold it.
                if self._clock() < lease.expires_at - self.ttl / 3:
                    logger.warning("table %s: lease renewal failed, retrying: %s", self.table_id, error)
                    continue
                renewed = None
            if renewed is None:
                logger.warning("table %s: lease at epoch %d lost", self.table_id, lease.epoch)
                self._lease = None
                self.lost.set()
                return
            self._lease = renewed
