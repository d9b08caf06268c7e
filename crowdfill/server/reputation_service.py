"""Reputation for the whole server: an emitter per live ``reputation`` table, the per-worker view
(monitor, REST), the ``standing`` event to the worker concerned, and exclusion by hand.

Exclusion is a reweigh like the emitter's: weight 0 and ``excluded``, one version above the one in
force, sequenced through the owner. Undoing it is the next version with the weight the worker's
estimate earns now (1 outside ``reputation`` scoring). The log keeps both, so replicas, recovery
and ``crowdfill audit`` agree on who was excluded and when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from crowdfill.model import CENTRAL_CLIENT, MODEL_WORKER, Reweigh
from crowdfill.quality import table_estimates, weight_of
from crowdfill.server.definition import TableSpec
from crowdfill.server.failures import Failure
from crowdfill.server.gold import gold_verdicts
from crowdfill.server.owner import TableOwner
from crowdfill.server.reputation_emitter import Gold, ReputationEmitter
from crowdfill.server.sockets import WORKER, SocketApp
from crowdfill.server.standing import standing_of

logger = logging.getLogger(__name__)

# Submitting an exclusion races with the emitter's reweighs (both take the next version): retry.
EXCLUSION_ATTEMPTS = 5


class ReputationService:
    def __init__(self, sockets: SocketApp) -> None:
        self._sockets = sockets
        self._emitters: dict[str, ReputationEmitter] = {}
        # The gold rows' verdicts of a table; replaceable so tests can judge voters by chosen values.
        self.gold: Callable[[TableSpec], Gold] = gold_verdicts

    # ------------------------------------------------------------------ emitters
    def attach(self, owner: TableOwner) -> None:
        """Start the emitter of a live ``reputation`` table (Tables calls it for each loaded owner)."""
        if not owner.live or owner.spec.scoring.family != "reputation":
            return
        existing = self._emitters.get(owner.table_id)
        if existing is not None:
            if existing.owner is owner:
                return
            existing.cancel()  # the table was unloaded and loaded again: a new owner, a new emitter
        emitter = ReputationEmitter(
            owner, lambda: self.gold(owner.spec), lambda o, op: self.tell(o, op.worker)
        )
        self._emitters[owner.table_id] = emitter
        emitter.start()

    def emitter(self, table_id: str) -> ReputationEmitter | None:
        return self._emitters.get(table_id)

    async def stop(self) -> None:
        emitters, self._emitters = list(self._emitters.values()), {}
        for emitter in emitters:
            await emitter.stop()

    # ------------------------------------------------------------------ views
    def rows(self, owner: TableOwner) -> list[dict[str, Any]]:
        """Per worker (who acted or was reweighed): estimate, evidence, weight and status. The
        caller holds ``owner.lock``."""
        table = owner.table
        settings = owner.spec.quality.reputation
        estimates = table_estimates(table, self.gold(owner.spec), settings)
        workers = set(estimates) | set(owner.ops_by_worker) | {op.worker for op in table.reweighs()}
        rows = []
        for worker in sorted(workers - {CENTRAL_CLIENT, MODEL_WORKER}):
            estimate = estimates.get(worker)
            rows.append(
                {
                    "worker_id": worker,
                    "estimate": round(estimate.estimate if estimate else settings.prior_mean, 4),
                    "evidence": estimate.evidence if estimate else 0,
                    "gold_votes": estimate.gold_votes if estimate else 0,
                    **standing_of(table, worker),
                }
            )
        return rows

    # ------------------------------------------------------------------ telling the worker
    async def tell(self, owner: TableOwner, worker: str) -> None:
        """Send ``standing`` to every open session of ``worker`` on the table."""
        standing = standing_of(owner.table, worker)
        sockets = self._sockets
        for session in sockets.presence.sessions(owner.table_id):
            if session.worker_id == worker:
                await sockets.sio.emit("standing", standing, to=session.sid, namespace=WORKER)

    # ------------------------------------------------------------------ exclusion by hand
    async def exclude(self, owner: TableOwner, worker: str) -> dict[str, Any]:
        return await self._reweigh_by_hand(owner, worker, exclude=True)

    async def include(self, owner: TableOwner, worker: str) -> dict[str, Any]:
        return await self._reweigh_by_hand(owner, worker, exclude=False)

    async def _reweigh_by_hand(self, owner: TableOwner, worker: str, *, exclude: bool) -> dict[str, Any]:
        for _ in range(EXCLUSION_ATTEMPTS):
            async with owner.lock:
                known = worker in owner.ops_by_worker or any(
                    op.worker == worker for op in owner.table.reweighs()
                )
                if not known or worker in (CENTRAL_CLIENT, MODEL_WORKER):
                    raise Failure("worker_not_found", f"worker {worker!r} has no operations on this table")
                if owner.table.excluded(worker) == exclude:
                    return {"worker_id": worker, "seq": owner.seq, **standing_of(owner.table, worker)}
                op = self._by_hand(owner, worker, exclude)
            outcome = await owner.submit(op)
            if outcome.failure is not None and outcome.failure.code == "reweigh_stale":
                continue
            if outcome.failure is not None:
                raise outcome.failure
            await self.tell(owner, worker)
            async with owner.lock:
                return {"worker_id": worker, "seq": owner.seq, **standing_of(owner.table, worker)}
        raise Failure("overloaded", "the table is busy reweighing; retry in a moment")

    def _by_hand(self, owner: TableOwner, worker: str, exclude: bool) -> Reweigh:
        table = owner.table
        version = {op.worker: op.version for op in table.reweighs()}.get(worker, 0) + 1
        if exclude:
            return Reweigh(worker, 0.0, version, excluded=True)
        weight = 1.0
        if owner.spec.scoring.family == "reputation":
            settings = owner.spec.quality.reputation
            estimate = table_estimates(table, self.gold(owner.spec), settings).get(worker)
            weight = round(weight_of(estimate.estimate if estimate else settings.prior_mean, settings), 3)
        return Reweigh(worker, weight, version)
