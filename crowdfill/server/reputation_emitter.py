"""The server's reweighs: beside a live ``reputation`` table's owner, sequenced as ordinary ops.

The owner never computes estimates itself (that would put the estimator on its hot path). After
every batch it tells this emitter, which wakes once ``every_ops`` operations were committed since
it last looked (or every ``every_seconds``), reads the table under the owner's lock, decides the
due reweighs (``decide``, pure) and submits them through ``owner.submit`` like any operation. So
they are validated (a reweigh must be its worker's next version, else ``reweigh_stale``),
logged, published and replayed: every replica that applied the log holds the same weights,
scores and statuses, whenever and however often the emitter happened to look.

A reweigh can change the final table and so the estimates: the emitter asks again until nothing
is due (at most ``MAX_ROUNDS`` times per wake-up).

Deciding keeps every voter's estimate up to date from what changed since the last look (the new
vote records and those the changed final rows judge differently: ``ReweighTracker``), but it still
reads the table's vote records and final rows, so a look costs time that grows with the table and
holds the event loop meanwhile. After
each wake-up the emitter therefore rests ``rest_after(seconds spent deciding)``, so that however
large the table and however fast operations arrive, deciding takes at most ``LOOP_SHARE`` of the
loop: a small table is still looked at every ``every_ops`` operations, a very large one less often.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from crowdfill.model import CandidateTable, Reweigh, Values
from crowdfill.quality import ReweighTracker, due_reweighs
from crowdfill.server.owner import TableOwner
from crowdfill.server.quality_settings import QualitySettings

logger = logging.getLogger(__name__)

MAX_ROUNDS = 10
# The largest share of the event loop's time that deciding reweighs may take.
LOOP_SHARE = 0.2
# How long ``stop`` waits for the loop to end (it ends at once unless a submit is under way).
STOP_SECONDS = 5.0

Gold = Mapping[Values, bool]
# Told of every reweigh that was sequenced.
Notify = Callable[[TableOwner, Reweigh], Awaitable[None]]


def decide(
    table: CandidateTable, gold: Gold, quality: QualitySettings, tracker: ReweighTracker | None = None
) -> list[Reweigh]:
    """The reweighs ``table`` calls for now: a voter whose earned weight moved by ``step`` or
    crossed the quarantine floor; workers the requester excluded are left at 0 (their exclusion
    is undone only by the requester). With a ``tracker`` (made with ``quality``'s settings and
    asked only about this table), the same reweighs from estimates kept up to date since the
    tracker's last call."""
    excluded = table.excluded_workers()
    due = (
        tracker.due(table, gold, excluded)
        if tracker is not None
        else due_reweighs(table, gold, quality.reputation, quality.step, excluded)
    )
    return [op for op in due if op.worker not in excluded]


def rest_after(deciding_seconds: float, share: float = LOOP_SHARE) -> float:
    """How long to wait after a wake-up that spent ``deciding_seconds`` deciding, so that deciding
    takes at most ``share`` of the time."""
    return max(0.0, deciding_seconds) * (1.0 - share) / share


class ReputationEmitter:
    def __init__(self, owner: TableOwner, gold: Callable[[], Gold], notify: Notify) -> None:
        self.owner = owner
        self._gold = gold
        self._notify = notify
        self._quality = owner.spec.quality
        self._tracker = ReweighTracker(self._quality.reputation, self._quality.step)
        self._wake = asyncio.Event()
        self._looked_at = owner.seq
        self._task: asyncio.Task[None] | None = None
        # Asked to look (at start, by commits) rather than woken by the timer; asked to end.
        self._asked = False
        self._stopping = False
        # Seconds spent deciding (under the owner's lock) since the last rest.
        self.deciding_seconds = 0.0

    def start(self) -> None:
        self.owner.on_commit = self._committed
        self._task = asyncio.create_task(self._run(), name=f"reputation:{self.owner.table_id}")
        self._ask()  # look once at start: a restarted server may owe reweighs

    def cancel(self) -> None:
        """Stop without waiting (its owner was dropped; the task holds nothing half done)."""
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            task.cancel()

    async def stop(self, within: float = STOP_SECONDS) -> None:
        """Cancel the loop and wait (at most ``within`` seconds) until it ended; again: nothing.

        The loop also ends at its next turn once stopping is asked, so a cancellation lost inside
        the loop (asyncio.wait_for on Python 3.11 drops one that arrives as its inner wait ends)
        still ends it."""
        task, self._task = self._task, None
        self._stopping = True
        if task is None:
            return
        self._wake.set()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=within)
        if not done:
            logger.error(
                "table %s: the reputation emitter did not end within %.1f s of its stop",
                self.owner.table_id,
                within,
            )
            return
        # The loop ends by our cancellation (the expected outcome) or at its next turn; a fault
        # it raised is reported, not lost.
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "table %s: the reputation emitter failed", self.owner.table_id, exc_info=task.exception()
            )

    def _ask(self) -> None:
        self._asked = True
        self._wake.set()

    def _committed(self, owner: TableOwner) -> None:
        if owner.seq - self._looked_at >= self._quality.every_ops or not owner.live:
            self._ask()

    async def _run(self) -> None:
        every = self._quality.every_seconds or None
        loop = asyncio.get_running_loop()
        while self.owner.live and not self._stopping:
            # A plain Event.wait, the timer setting the event: no asyncio.wait_for, whose 3.11
            # implementation can drop a cancellation that arrives as the wait ends.
            timer = loop.call_later(every, self._wake.set) if every is not None else None
            try:
                await self._wake.wait()
            finally:
                if timer is not None:
                    timer.cancel()
            self._wake.clear()
            asked, self._asked = self._asked, False
            if self._stopping:
                break
            if not asked and self.owner.seq == self._looked_at:
                continue  # the timer, and nothing happened since the last look
            try:
                await self.emit_due()
            except Exception:
                # Reweighs are bookkeeping beside the table: a fault here must not stop the
                # table; it is logged and the next wake-up tries again.
                logger.exception("table %s: emitting reweighs failed", self.owner.table_id)
            rest, self.deciding_seconds = rest_after(self.deciding_seconds), 0.0
            if rest > 0:
                await asyncio.sleep(rest)  # operations committed meanwhile wake the next look at once

    async def emit_due(self) -> list[Reweigh]:
        """Decide and submit what is due until nothing is; the reweighs that were sequenced."""
        owner = self.owner
        sequenced: list[Reweigh] = []
        for _ in range(MAX_ROUNDS):
            async with owner.lock:
                if not owner.live:
                    break
                self._looked_at = owner.seq
                started = time.perf_counter()
                due = decide(owner.table, self._gold(), self._quality, self._tracker)
                self.deciding_seconds += time.perf_counter() - started
            if not due:
                break
            for op in due:
                outcome = await owner.submit(op)
                if outcome.published is not None:
                    sequenced.append(op)
                    await self._notify(owner, op)
                elif outcome.failure is not None and outcome.failure.code != "reweigh_stale":
                    # The table closed or storage failed: the next wake-up decides afresh.
                    return sequenced
        return sequenced
