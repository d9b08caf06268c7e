"""Which process sequences which table: one store lease per live table, taken over when it expires.

Every process that has a live table loaded *claims* it: the first to find its lease free takes it
(a ``LeaseKeeper`` renews it) and leads; the others follow and poll. When the lease is free or
expired (the holder released it, died, or stopped renewing), a follower takes it with a higher
epoch and leads. When a keeper reports its lease lost, that table's member resigns at once. The
store's fencing makes all of this safe: whatever the clocks and pauses, only the current epoch
can append, so a late or revived former leader is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from crowdfill.cluster.lease_keeper import LeaseKeeper
from crowdfill.store.port import Lease, Store, StoreError

logger = logging.getLogger(__name__)


class Member(Protocol):
    """One table as this process holds it (the server's ``TableOwner`` adapter)."""

    async def lead(self, epoch: int) -> None:
        """Sequence the table from now on, appending at ``epoch``."""

    def resign(self) -> None:
        """Stop sequencing at once (the lease was lost)."""


@dataclass
class _Claim:
    member: Member
    keeper: LeaseKeeper
    holder: str | None = None
    watch: asyncio.Task[None] | None = field(default=None, repr=False)


class Ownership:
    def __init__(
        self,
        store: Store,
        node: str,
        *,
        ttl: float,
        poll: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.node = node
        self.ttl = ttl
        self.poll = poll if poll is not None else ttl / 6
        self._clock = clock
        self._claims: dict[str, _Claim] = {}
        self._poller: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._poller = asyncio.create_task(self._poll(), name=f"ownership:{self.node}")

    async def stop(self) -> None:
        """Release every lease held (a clean shutdown lets another process lead at once)."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            # Cancelled on purpose: that is how the poller ends.
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        for table_id in list(self._claims):
            await self.release(table_id)

    # ------------------------------------------------------------------ claims
    async def claim(self, table_id: str, member: Member) -> int | None:
        """Register ``member`` for the table; the epoch if this process leads it now, else None."""
        keeper = LeaseKeeper(self._store, table_id, self.node, ttl=self.ttl, clock=self._clock)
        claim = _Claim(member, keeper)
        self._claims[table_id] = claim
        lease = await keeper.acquire()
        if lease is None:
            claim.holder = await self._holder(table_id)
            return None
        self._watch(table_id, claim)
        claim.holder = self.node
        return lease.epoch

    async def release(self, table_id: str) -> None:
        """Forget the table (unloaded, finished, shutting down), freeing its lease if held."""
        claim = self._claims.pop(table_id, None)
        if claim is None:
            return
        if claim.watch is not None:
            claim.watch.cancel()
        try:
            await claim.keeper.release()
        except StoreError as error:
            # It then expires after its ttl instead of being free at once.
            logger.warning("table %s: releasing the lease failed: %s", table_id, error)

    def holder(self, table_id: str) -> str | None:
        """The node that leads the table, as last seen here (None: unknown or nobody)."""
        claim = self._claims.get(table_id)
        return None if claim is None else claim.holder

    def leads(self, table_id: str) -> bool:
        claim = self._claims.get(table_id)
        return claim is not None and claim.keeper.epoch is not None

    async def refresh(self, table_id: str) -> str | None:
        """Read the table's holder from the store again (after a request to the old one failed)."""
        claim = self._claims.get(table_id)
        holder = await self._holder(table_id)
        if claim is not None and claim.keeper.epoch is None:
            claim.holder = holder
        return holder

    async def _holder(self, table_id: str) -> str | None:
        lease = await self._store.get_lease(table_id)
        return lease.holder if lease is not None and _live(lease, self._clock()) else None

    # ------------------------------------------------------------------ takeover and loss
    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            for table_id, claim in list(self._claims.items()):
                if claim.keeper.epoch is not None:
                    continue
                try:
                    await self._try_lead(table_id, claim)
                except StoreError as error:
                    logger.warning("table %s: checking its lease failed: %s", table_id, error)

    async def _try_lead(self, table_id: str, claim: _Claim) -> None:
        lease = await self._store.get_lease(table_id)
        if _live(lease, self._clock()):
            assert lease is not None
            claim.holder = lease.holder
            return
        taken = await claim.keeper.acquire()
        if taken is None or self._claims.get(table_id) is not claim:
            return
        logger.info("table %s: taking it over at epoch %d", table_id, taken.epoch)
        claim.holder = self.node
        self._watch(table_id, claim)
        await claim.member.lead(taken.epoch)

    def _watch(self, table_id: str, claim: _Claim) -> None:
        claim.watch = asyncio.create_task(self._on_loss(table_id, claim), name=f"lease-watch:{table_id}")

    async def _on_loss(self, table_id: str, claim: _Claim) -> None:
        await claim.keeper.lost.wait()
        logger.warning("table %s: lease lost; following whoever leads it now", table_id)
        claim.member.resign()
        claim.holder = None
        claim.watch = None


def _live(lease: Lease | None, now: float) -> bool:
    return lease is not None and lease.expires_at > now
