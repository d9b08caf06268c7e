"""``TableOwner``: the one asyncio task that changes a live table (DESIGN §5).

Operations from every session queue here. The loop takes everything queued (one batch) and, for
each operation in order, validates it against the candidate table (a refusal is answered at once)
and applies it in memory so the next one is validated against it; the central client's inserts
that operation calls for follow it right away (``crowdfill.central_client.sequencer``). The first
operation after which the template is satisfied ends the collection: the batch is cut there and
every later operation of it is refused with ``table_closed``, so where a table completes depends
only on its log, never on how operations were batched. The batch, inserts included, is persisted
with ONE ``store.append``; only then is it published, acknowledged, and fed to the compensation
estimator. With early forwarding (``Settings.early_forward``, the default) the batch is forwarded to
this process's other clients before the append, as soon as it is validated: its last operation is
integrated (and observed by the central client) right after that forward, before anything else is
staged, and the inserts it calls for are forwarded after it and share its append (``_forward_then_settle``).
Its senders are still acknowledged only once it is durable. Operations queued while an append is
in flight (or within the commit linger) are staged and forwarded the same way at once and
appended right after it (``_commit``), so nobody waits for an earlier batch's fsync to see them.
If the append fails, the in-memory state is rebuilt from storage and the batch is refused: nothing
is half-applied and nothing unacknowledged is acknowledged; the clients that were forwarded the
lost batch are sent a fresh snapshot. A fault while integrating an operation already forwarded (a
bug: validation accepted it) is handled the same way, for that operation's group and what
follows it.

Each owner's run has an *incarnation* (an id and the durable seq it started from, kept in the
store): a client keeps it beside its seq, and a reconnecting client of another incarnation gets a
replay only if what it saw is known to be in the log (``replays_for``), else a snapshot. Operations
forwarded early and then lost (a crash before the fsync, a failed append) may have been seen, and
later operations reuse their seq numbers (docs/protocol.md, "Incarnations").

Readers (snapshots for joining clients, REST reads, the monitor) hold ``owner.lock`` so they see
only published state; the loop holds it while it processes a batch.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crowdfill.central_client import CentralClient
from crowdfill.central_client.sequencer import LoggedIds, Sequencer, replay
from crowdfill.compensation import Estimator, Settlement
from crowdfill.model import (
    CENTRAL_CLIENT,
    MODEL_WORKER,
    CandidateTable,
    CrowdFillError,
    Fill,
    Operation,
    Reweigh,
    Sequenced,
)
from crowdfill.model.codec import sequenced_from_wire, sequenced_to_wire
from crowdfill.model.snapshot import restore, snapshot
from crowdfill.server.definition import TableSpec
from crowdfill.server.failures import Failure
from crowdfill.server.finished import record_finished
from crowdfill.server.gold import gold_inserts, logged_op, public_op
from crowdfill.server.heap import collector_paused
from crowdfill.server.recovery import Capturer, restore_capture
from crowdfill.server.settings import Settings
from crowdfill.store.port import LogRecord, StaleEpoch, Store, StoreError

logger = logging.getLogger(__name__)

LIVE = "live"
COMPLETE = "complete"
CLOSED = "closed"
DRAFT = "draft"
SETTLEMENT_KIND = "settlement"
# Where a finished table's collection ended: {"status": ..., "seq": ...} under key "final". For a
# complete table the seq is the operation that satisfied the template (``crowdfill audit`` checks it).
COMPLETION_KIND = "completion"
# The runs of a table's owner (``TableOwner.incarnation``), one item each: key the id, value
# {"n": their order, "seq": the durable seq the run started from, "at": when}.
INCARNATION_KIND = "incarnation"
# How many runs of a table the store remembers: a client of an older run gets a snapshot (always
# right), so the records stay bounded however often the table is reloaded (idle unloads, restarts).
KEPT_INCARNATIONS = 16


@dataclass(frozen=True)
class Published:
    """An accepted, durable operation as it goes out: its seq, wire form and the session it came from."""

    seq: int
    op: dict[str, Any]
    origin: str | None
    worker: str
    # Already forwarded to this process's clients before it was durable (early forwarding).
    early: bool = False


@dataclass(frozen=True)
class Outcome:
    """The answer to one submission: either ``published`` or ``failure``."""

    published: Published | None = None
    failure: Failure | None = None


# How many appends may follow each other in one turn of the owner's loop (``TableOwner._commit``).
PIPELINED_GROUPS = 16


@dataclass
class _Submission:
    op: Sequenced
    origin: str | None
    future: asyncio.Future[Outcome] = field(repr=False)
    # The last seq the sender had seen (fills): a fill of a row replaced at or before it is stale.
    seen_seq: int | None = None


@dataclass
class _Group:
    """Operations staged (validated and applied in memory; the last one perhaps only validated, see
    ``unsettled``) for one append, and their answers."""

    staged: list[tuple[_Submission | None, Sequenced]]
    late: list[_Submission]
    complete: bool
    records: list[LogRecord]
    published: list[tuple[_Submission | None, Published]]
    # Already forwarded early (staged while an earlier append was in flight).
    forwarded: bool = False
    # The last operation staged, admitted but not integrated yet: it is forwarded first
    # (``TableOwner._forward_then_settle``); ``complete`` is known once it is integrated.
    unsettled: Sequenced | None = None

    def extended(self, other: _Group) -> _Group:
        """This group and ``other`` (staged right after it) as one append."""
        # Nothing is staged after an operation before it is integrated (``TableOwner._forward_then_settle``).
        assert self.unsettled is None
        return _Group(
            self.staged + other.staged,
            self.late + other.late,
            other.complete,
            self.records + other.records,
            self.published + other.published,
            self.forwarded and other.forwarded,
            other.unsettled,
        )


class OwnerListener(Protocol):
    """What the owner tells the outside world (the socket layer implements it)."""

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None: ...

    async def completed(self, owner: TableOwner) -> None: ...

    def changed(self, owner: TableOwner) -> None: ...


class EarlyForward(Protocol):
    """Where an owner forwards a batch before it is durable (this process's clients only)."""

    async def forward(self, owner: TableOwner, entries: Sequence[Published]) -> None: ...

    async def reset(self, owner: TableOwner) -> None:
        """A forwarded batch was lost: bring every client of the table to the owner's (rebuilt) state."""


class Remote(Protocol):
    """Where a table's writes go while another process sequences it (``crowdfill.server.cluster_node``)."""

    async def submit(self, op: Sequenced, origin: str | None, seen_seq: int | None) -> Outcome: ...

    async def close(self) -> None: ...


class TableOwner:
    def __init__(
        self,
        table_id: str,
        spec: TableSpec,
        status: str,
        store: Store,
        settings: Settings,
        listener: OwnerListener,
    ) -> None:
        self.table_id = table_id
        self.spec = spec
        self.status = status
        self.lock = asyncio.Lock()
        self.blocked: set[str] = set()
        self.settlement: Settlement | None = None
        # The last seq that counts for a finished table (its completion or close), None while live.
        self.end_seq: int | None = None
        self._store = store
        self._settings = settings
        self._listener = listener
        self._queue: asyncio.Queue[_Submission] = asyncio.Queue(maxsize=settings.queue_limit)
        # Set when a submission is queued while the loop waits for an append (``_append_taking``).
        self._arrival: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stale = False
        # Called after every durable batch (the reputation emitter, crowdfill.server.reputation_emitter).
        self.on_commit: Callable[[TableOwner], None] | None = None
        # Several processes (docs/deploy.md): only the lease holder sequences (``leading``), and
        # appends with its fencing ``epoch``; the others follow the log and send writes to ``remote``.
        self.leading = True
        self.epoch: int | None = None
        self.remote: Remote | None = None
        self._busy = False
        self._capturer = Capturer(self)  # derived-state captures (crowdfill.server.recovery)
        # Early forwarding (set by ``Tables`` when ``Settings.early_forward``): None forwards after
        # the append. ``_unsure``: a forwarded batch is not durable yet; ``_reset_due``: one was
        # lost and the clients are still to be reset (when the rebuild from storage succeeds).
        self.early: EarlyForward | None = None
        self._unsure = False
        self._reset_due = False
        # This run (see the module docstring): its id, its order and the durable seq it started
        # from; and every run the store knows of: id -> (order, start seq).
        self.incarnation = ""
        self.incarnation_seq = 0
        self._incarnation_n = 0
        self._incarnations: dict[str, tuple[int, int]] = {}
        self._reset(CandidateTable(spec.schema, spec.scoring, spec.template))

    # ------------------------------------------------------------------ state
    def _reset(self, table: CandidateTable, history: Sequence[Operation] = ()) -> None:
        self.table = table
        # The owner closes the table itself (in _finish), after the batch that satisfied it is durable.
        self.central = CentralClient(table, self._new_row_id, close_when_satisfied=False)
        # Holds the central client's planned inserts between operations; after a launch or a
        # restart they are the "seeds" the next batch persists first.
        self.sequencer = Sequencer(table, self.central)
        # The estimator attributes the work of ``history`` (operations the table already holds).
        self.estimator = Estimator(table, self.spec.compensation, history)
        self.seq = 0
        self.snapshot_seq = 0
        self.ops_by_worker: collections.Counter[str] = collections.Counter()
        self._recent: collections.deque[tuple[int, dict[str, Any]]] = collections.deque(
            maxlen=max(1, self._settings.replay_window)
        )
        # Replaced row id -> (seq of the first fill that replaced it, the row that fill added, the
        # worker who sent it). The model knows *that* a row was replaced; only the owner knows
        # *when* in the sequence.
        self._replaced: dict[str, tuple[int, str, str]] = {}
        # (replaced row id, worker) -> (seq, new row id) of that worker's first fill of that row,
        # for the workers whose fill was not the first (the first one's is in ``_replaced``): a
        # worker always knows its own fills, so filling the same row again is never concurrent.
        # Most rows are filled once, so most fills need no entry here (docs/scale.md, "Memory").
        self._filled: dict[tuple[str, str], tuple[int, str]] = {}
        # Whether the spec's gold rows may still need inserting (at launch, or after a failed append).
        self._gold_due = bool(self.spec.gold)

    def _new_row_id(self) -> str:
        while True:
            row_id = "c" + secrets.token_hex(6)
            if not self.table.known(row_id):
                return row_id

    @property
    def live(self) -> bool:
        return self.status == LIVE

    def ops_since(self, seq: int) -> list[tuple[int, dict[str, Any]]] | None:
        """Published ops after ``seq`` from memory, or None when they are older than the replay window."""
        if seq > self.seq:
            return None  # the client knows a future this server never had (e.g. memory:// restarted)
        if seq == self.seq:
            return []
        if seq < 0 or not self._recent or self._recent[0][0] > seq + 1:
            return None
        return [(s, op) for s, op in self._recent if s > seq]

    async def read_missed(self, seq: int) -> list[tuple[int, dict[str, Any]]] | None:
        """The ops after ``seq`` read back from the store's log when they are older than the replay
        window but at most ``Settings.replay_from_store`` of them; None when memory (or a snapshot)
        is the answer. Call WITHOUT ``lock``: a read of up to that many ops must not hold back the
        table's commits. Hand the result to ``missed_since`` under the lock."""
        missed = self.seq - seq
        if (
            self.ops_since(seq) is not None
            or seq < 0
            or missed <= 0
            or missed > self._settings.replay_from_store
        ):
            return None
        try:
            records = await self._store.read_log(self.table_id, after_seq=seq, limit=missed)
        except StoreError as error:
            logger.warning("table %s: reading ops after seq %d failed (%s)", self.table_id, seq, error)
            return None
        return [(record.seq, public_op(record.operation)) for record in records]

    def missed_since(
        self, seq: int, stored: Sequence[tuple[int, dict[str, Any]]] | None = None
    ) -> list[tuple[int, dict[str, Any]]] | None:
        """Published ops after ``seq``: from memory (``ops_since``), or ``stored`` (``read_missed``)
        topped up from memory with what was committed since it was read; None when a snapshot is
        the answer. Call under ``lock``, so nothing is published meanwhile."""
        recent = self.ops_since(seq)
        if recent is not None or seq < 0 or not stored or stored[0][0] != seq + 1:
            return recent
        # The read ran outside the lock: it may hold a batch that is durable but not yet published.
        head = [(s, op) for s, op in stored if s <= self.seq]
        if not head or [s for s, _ in head] != list(range(seq + 1, seq + 1 + len(head))):
            return None  # the store does not hold what this replica published (it never should)
        since = self.ops_since(head[-1][0])
        if since is None:
            return None  # more was committed meanwhile than memory keeps
        return head + since

    # ------------------------------------------------------------------ lifecycle
    async def load(self) -> None:
        """Rebuild the table from storage (latest snapshot, then the log tail) and start if live."""
        await self._recover()
        await self._begin_incarnation(fresh=self.live and self.leading)
        if self.live and self.leading:
            self._task = asyncio.create_task(self._run(), name=f"owner:{self.table_id}")
            if self.sequencer.planned or gold_inserts(self.spec, self.table):
                async with self.lock:
                    await self._process([])

    async def stop(self) -> None:
        self._capturer.cancel()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # The loop ends by our cancellation; that CancelledError is the expected outcome.
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            _answer(pending, failure=Failure("store_unavailable", "the server is shutting down"))
        await self._capturer.stopped()

    async def unload(self) -> None:
        """Stop an idle table so it can be dropped from memory; its state is captured (or, with
        captures off, snapshotted) first, so reloading it replays nothing (the registry checks
        ``idle`` and keeps new work out)."""
        async with self.lock:
            if self._settings.capture_every > 0:
                # A capture still being taken is of an older seq: let it land first, so a newer
                # one started here is never overwritten by it.
                await self._capturer.wait()
                if not self._capturer.covers(self.seq):
                    self._capturer.start()
                    await self._capturer.wait()
                    if not self._capturer.covers(self.seq):
                        raise StoreError(
                            f"table {self.table_id}: the state capture at seq {self.seq} was not stored"
                        )
            elif self.seq > self.snapshot_seq:
                await self._save_snapshot()
        await self.stop()

    async def capture_before_stop(self, deadline: float) -> bool:
        """Capture a live table's state at its current seq, unless a stored capture already covers
        it, and wait until it is stored or the monotonic clock reaches ``deadline``: a restart
        after a clean stop then replays no log tail (docs/scale.md, "A clean stop"). Whether a
        capture at the current seq is stored."""
        if self._settings.capture_every <= 0 or not self.live or not self.leading:
            return False
        async with self.lock:  # a batch holds the lock until it is durable: the state is whole
            # An older capture in flight lands first, so it can never replace the new one.
            if not await self._capturer.landed(deadline):
                return False
            if not self._capturer.covers(self.seq):
                self._capturer.start()
                if not await self._capturer.landed(deadline):
                    return False
            return self._capturer.seq >= self.seq

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being processed."""
        return self._queue.empty() and not self.lock.locked()

    async def _recover(self) -> None:
        restored = await restore_capture(self)  # the captured state and the log after it, if stored
        if restored is not None:
            self._stale = False
            await self._resume(restored.completion_seq, plan=False)
            return
        spec = self.spec
        saved = await self._store.load_snapshot(self.table_id)
        if saved is not None:
            base, state = saved
            table = restore(spec.schema, spec.scoring, spec.template, state)
        else:
            base, table = 0, CandidateTable(spec.schema, spec.scoring, spec.template)
        # The whole log is read: the estimator and the per-worker counts are functions of it.
        log = await self._store.read_log(self.table_id)
        operations = [sequenced_from_wire(record.operation) for record in log]
        # The tail goes through the same one-operation-at-a-time replay as ``crowdfill audit``,
        # so recovery stops where the live table completed (operations past it are not applied).
        # Its central client plans the logged inserts (their ids come from the log), so nothing
        # piles up pending and the replay stays linear in the log.
        replayed = replay(
            Sequencer(table, CentralClient(table, self._new_row_id, close_when_satisfied=False)),
            [(record.seq, op) for record, op in zip(log, operations, strict=True) if record.seq > base],
            base_seq=base,
        )
        for divergence in replayed.divergences:
            logger.error("table %s: replaying the log: %s", self.table_id, divergence)
        everything = [op for record, op in zip(log, operations, strict=True) if record.seq <= base]
        everything.extend(op for _, op in replayed.applied)
        # Reweighs are the server's, not work: neither estimated nor counted as a worker's op.
        history = [op for op in everything if not isinstance(op, Reweigh)]
        self._reset(table, history)
        self._stale = False
        for op in history:
            self.ops_by_worker[op.worker] += 1
        for record, logged in zip(log, operations, strict=True):
            self._recent.append((record.seq, public_op(record.operation)))
            if isinstance(logged, Fill):
                self._record_fill(logged, record.seq)
        self.seq = log[-1].seq if log else 0
        self.snapshot_seq = base
        await self._resume(replayed.completion_seq)

    async def _resume(self, completion_seq: int | None, *, plan: bool = True) -> None:
        # After a launch or a restart the central client may need rows now (e.g. inserts that
        # were computed but not persisted before a crash); _commit persists them with the next batch.
        if plan:  # a restored capture's central client is already as the live one left it
            self.sequencer.start()
        if self.status != LIVE:
            self.sequencer.discard_planned()
            self.table.close()
            self.end_seq = await self._stored_end_seq(completion_seq)
            if self.status in (COMPLETE, CLOSED):
                self.settlement = await self._load_settlement()
        elif self.central.satisfied and self.leading:
            # The table was complete before a crash cut its closing short: finish it now.
            self.sequencer.discard_planned()
            await self._finish(COMPLETE, completion_seq)

    async def _stored_end_seq(self, replayed: int | None) -> int:
        """Where a finished table ended: as stored, else (tables finished before it was stored) replayed."""
        stored = await self._store.get_item(self.table_id, COMPLETION_KIND, "final")
        if stored is not None:
            return int(stored["seq"])
        return replayed if replayed is not None and self.status == COMPLETE else self.seq

    # ------------------------------------------------------------------ submitting
    async def submit(self, op: Sequenced, origin: str | None = None, seen_seq: int | None = None) -> Outcome:
        """Queue ``op`` and wait until it is refused, or durable and published.

        ``seen_seq``: the last seq the sender had seen; a fill of a row replaced at or before it is
        refused (``row_replaced``). None skips the check (the sender's knowledge is unknown).
        """
        if self._task is None or self._task.done():
            if self.remote is not None and self.live and not self.leading:
                return await self.remote.submit(op, origin, seen_seq)
            if self.remote is not None and self.live and self.leading and self.lock.locked():
                # A takeover's rebuild is in hand (``lead``): its loop starts the moment it is done.
                async with self.lock:
                    running = self._task is not None and not self._task.done()
                if running:
                    return await self.submit(op, origin, seen_seq)
            if self.live:
                return Outcome(failure=_not_leading())
            return Outcome(failure=_not_live(self.status))
        future = self.submit_now(op, origin, seen_seq)
        assert future is not None  # the loop runs (checked above)
        return await future

    def submit_now(
        self, op: Sequenced, origin: str | None = None, seen_seq: int | None = None
    ) -> asyncio.Future[Outcome] | None:
        """``submit`` without a coroutine while this owner's loop runs: ``op`` is queued at once and
        the future resolves with its outcome (already done when the queue is full). None when the
        loop does not run (another process sequences, a takeover, a finished table): await
        ``submit`` then. The socket edge's lean receive path calls it (crowdfill.server.sockets)."""
        if self._task is None or self._task.done():
            return None
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Submission(op, origin, future, seen_seq))
        except asyncio.QueueFull:
            future.set_result(Outcome(failure=Failure("overloaded", "the table is busy; retry in a moment")))
            return future
        arrival = self._arrival
        if arrival is not None and not arrival.done():
            arrival.set_result(None)
        return future

    async def close(self) -> None:
        """Stop collection at the requester's request; everyone is settled and told."""
        if self.remote is not None and self.live and not self.leading:
            await self.remote.close()
            return
        async with self.lock:
            if not self.live:
                raise _not_live(self.status)
            await self._finish(CLOSED)

    # ------------------------------------------------------------------ the loop
    async def _run(self) -> None:
        settings = self._settings
        while True:
            first = await self._queue.get()
            if settings.batch_linger_seconds > 0:
                await asyncio.sleep(settings.batch_linger_seconds)
            batch = [first]
            while len(batch) < settings.batch_max_ops and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._busy = True
            try:
                async with self.lock:
                    await self._process(batch)
            finally:
                self._busy = False
            # Let the senders' acknowledgements go out before the next batch is forwarded.
            await asyncio.sleep(0)
            if not self.live or not self.leading:
                self._drain_closed()
                return

    async def _process(self, batch: list[_Submission]) -> None:
        try:
            if self._stale:
                await self._recover()
                await self._resync_if_due()
            await self._commit(batch)
            return
        except StaleEpoch as error:
            # Another process took the lease over: this one may never append again (docs/deploy.md).
            logger.warning("table %s: fenced off (%s); no longer sequencing it", self.table_id, error)
            self.leading = False
            self.epoch = None
            failure = Failure("store_unavailable", "this server no longer sequences the table; retry")
        except StoreError as error:
            logger.error("table %s: storage failed (%s); rebuilding from storage", self.table_id, error)
            failure = Failure("store_unavailable", "storage failed; retry")
        except Exception:
            # A bug in a component must not leave senders waiting forever or the table
            # half-changed: refuse the batch, log the fault, rebuild from storage.
            logger.exception("table %s: processing a batch failed; rebuilding it", self.table_id)
            failure = Failure("internal_error", "the server failed to process the operation; retry")
        for submission in batch:
            _answer(submission, failure=failure)
        self._stale = True
        if self._unsure:
            # The batch was forwarded before its append, which failed: clients hold operations
            # the log lacks, and the next batch will reuse their seq numbers.
            self._unsure = False
            self._reset_due = True
        try:
            await self._recover()
        except StoreError as error:
            # Still unavailable: stay stale and try again before the next batch.
            logger.error("table %s: rebuilding from storage failed (%s)", self.table_id, error)
            return
        await self._resync_if_due()

    async def _resync_if_due(self) -> None:
        """After a lost forwarded batch, once rebuilt: start a new run and reset every client."""
        if not self._reset_due:
            return
        self._reset_due = False
        await self._begin_incarnation(fresh=self.live and self.leading)
        if self.early is not None:
            await self.early.reset(self)

    # ------------------------------------------------------------------ incarnations
    async def _begin_incarnation(self, *, fresh: bool) -> None:
        """``fresh``: start a new run from the durable state just rebuilt (and store it); else
        (a follower, a finished table) take the newest stored run's, or a local one if none."""
        await self.learn_incarnations()
        if not fresh and self._incarnations:
            ident, (n, seq) = max(self._incarnations.items(), key=lambda item: item[1][0])
            self.incarnation, self._incarnation_n, self.incarnation_seq = ident, n, seq
            return
        # A local run nobody else knows (not stored) sorts before every stored one: order 0.
        n = max((n for n, _ in self._incarnations.values()), default=0) + 1 if fresh else 0
        ident = secrets.token_hex(8)
        self.incarnation, self._incarnation_n, self.incarnation_seq = ident, n, self.seq
        self._incarnations[ident] = (n, self.seq)
        if not fresh:
            return
        try:
            await self._store.put_item(
                self.table_id, INCARNATION_KIND, ident, {"n": n, "seq": self.seq, "at": time.time()}
            )
        except StoreError as error:
            # Then no other process (nor this one after a restart) knows it: its clients get snapshots.
            logger.warning("table %s: storing incarnation %s failed (%s)", self.table_id, ident, error)
            return
        await self._forget_old_incarnations()

    async def _forget_old_incarnations(self) -> None:
        """Drop the stored runs older than the newest ``KEPT_INCARNATIONS`` (their clients get
        snapshots; what decides a replay for a newer run's client is only runs after it)."""
        ranked = sorted(self._incarnations.items(), key=lambda item: item[1][0], reverse=True)
        for ident, _ in ranked[KEPT_INCARNATIONS:]:
            try:
                await self._store.delete_item(self.table_id, INCARNATION_KIND, ident)
            except StoreError as error:
                logger.warning("table %s: forgetting incarnation %s failed (%s)", self.table_id, ident, error)
                return
            del self._incarnations[ident]

    async def learn_incarnations(self) -> None:
        """Read the runs the store knows of (another process may have started one since)."""
        try:
            items = await self._store.list_items(self.table_id, INCARNATION_KIND)
        except StoreError as error:
            logger.warning("table %s: reading incarnations failed (%s)", self.table_id, error)
            return
        for key, value in items:
            self._incarnations[key] = (int(value["n"]), int(value["seq"]))

    def adopt_incarnation(self, ident: str, n: int, seq: int) -> None:
        """A follower hears of the leader's run (its broadcasts name it)."""
        self._incarnations[ident] = (n, seq)
        if not self.leading and n > self._incarnation_n:
            self.incarnation, self._incarnation_n, self.incarnation_seq = ident, n, seq

    @property
    def incarnation_key(self) -> tuple[str, int, int]:
        return self.incarnation, self._incarnation_n, self.incarnation_seq

    def replays_for(self, incarnation: str | None, last_seq: int) -> bool:
        """Whether a client of ``incarnation`` that saw every op up to ``last_seq`` saw only logged
        ones (so a replay after it is right); False means it gets a snapshot.

        The client's own run may have forwarded operations that were lost (a crash before their
        fsync, a failed append), but only after the durable seq the next run started from: only the
        batches forwarded after a run's last durable one can be lost (the one being appended and
        those forwarded while it was), and a lost one ends the run. A client
        without an incarnation (an older page) is trusted up to the seq this run started from;
        one of a run the store does not know, not at all.

        A client that holds past this replica's seq never gets a replay, whatever its run: what it
        holds beyond is either not yet here (a snapshot is as right) or was forwarded early and
        lost. The latter is the killed leader's client that reconnects to a follower before the
        takeover: the follower still has the dead run's incarnation and its durable head, the
        client has that run and an op past the head that the log never got; replayed from the
        head (nothing), it would keep that op and skip the new leader's op of the same seq.
        """
        if last_seq > self.seq:
            return False
        if incarnation == self.incarnation:
            return True
        if incarnation is None:
            return last_seq <= self.incarnation_seq
        known = self._incarnations.get(incarnation)
        if known is None:
            return False
        later = [seq for n, seq in self._incarnations.values() if n > known[0]]
        # No later run: the client's is the newest stored (the leader's, seen from a follower,
        # whose forwards come after the append), so whatever this replica holds is the same.
        return not later or last_seq <= min(later)

    def _drain_closed(self) -> None:
        failure = _not_live(self.status) if not self.live else _not_leading()
        while not self._queue.empty():
            _answer(self._queue.get_nowait(), failure=failure)

    # ------------------------------------------------------------------ several processes
    async def lead(self, epoch: int) -> list[Published]:
        """Start sequencing at lease ``epoch``: rebuild from storage (the log is the truth), then run.

        Returns what the rebuild added to this replica (the former leader's last batches, which
        it may have appended without telling anyone), for this process's clients.
        """
        async with self.lock:
            before = self.seq
            self.leading = True
            self.epoch = epoch
            self._stale = False
            await self._recover()
            # A new run: the former leader may have forwarded operations its log never got.
            await self._begin_incarnation(fresh=True)
            learned = self._published_after(before)
        if self.live and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run(), name=f"owner:{self.table_id}")
            if self.sequencer.planned:
                async with self.lock:
                    await self._process([])
        return learned

    def _published_after(self, seq: int) -> list[Published]:
        return [Published(s, op, None, str(op.get("worker", ""))) for s, op in self._recent if s > seq]

    def resign(self) -> None:
        """Stop sequencing (the lease was lost): after the batch in hand; queued ones are refused."""
        self.leading = False
        self.epoch = None
        self._stale = True  # the next follow() rebuilds from storage
        task = self._task
        if task is not None and not task.done() and not self._busy:
            task.cancel()  # idle at its queue: nothing is half done
            task.add_done_callback(lambda _: self._drain_closed())

    async def follow(self, entries: Sequence[Published], status: str | None = None) -> list[Published]:
        """Apply what the sequencing process published; return the entries that were new here.

        Entries must continue this replica's seq; otherwise (a gap, a missed message, a finished
        table: ``status``) the replica is rebuilt from storage, and what that added comes back
        (with the origins ``entries`` tell, None for the others).
        """
        async with self.lock:
            if self.leading and self._task is not None:
                return []
            before = self.seq
            if not (self._stale or status is not None or (entries and entries[0].seq > self.seq + 1)):
                try:
                    return self._apply_published([e for e in entries if e.seq > self.seq])
                except CrowdFillError as error:
                    logger.error(
                        "table %s: a published op does not apply (%s); rebuilding", self.table_id, error
                    )
            if status is not None:
                self.status = status
            self._stale = False
            await self._recover()
            await self._begin_incarnation(fresh=False)
            known = {entry.seq: entry for entry in entries}
            return [known.get(entry.seq, entry) for entry in self._published_after(before)]

    def people_ops(self) -> dict[str, int]:
        """Operations per worker, leaving out the central client and the model in the loop."""
        return {w: n for w, n in self.ops_by_worker.items() if w not in (CENTRAL_CLIENT, MODEL_WORKER)}

    def account(self, op: Sequenced, seq: int) -> None:
        """The bookkeeping beside the table for an operation applied at ``seq`` outside ``_commit``
        (a follower's replay, a capture's log tail): estimates, per-worker counts, fill authors."""
        if isinstance(op, Reweigh):
            self.estimator.reweighed()  # the server's: no one's contribution, no one's count
            return
        self.estimator.observe(op)
        self.ops_by_worker[op.worker] += 1
        if isinstance(op, Fill):
            self._record_fill(op, seq)

    def _apply_published(self, fresh: Sequence[Published]) -> list[Published]:
        applied: list[Published] = []
        ops = [sequenced_from_wire(logged_op(self.spec, entry.op)) for entry in fresh]
        # The central client's inserts come from the log: it plans them with the ids the leader
        # gave them (the leader publishes an operation and the inserts it calls for together), so
        # each plan is settled by its logged insert instead of staying pending for good.
        with self.central.drawing_row_ids(LoggedIds.of(ops)):
            for entry, logged in zip(fresh, ops, strict=True):
                op = self.sequencer.apply(logged)
                self.sequencer.discard_planned()
                self.account(op, entry.seq)
                self._recent.append((entry.seq, entry.op))
                self.seq = entry.seq
                applied.append(entry)
        return applied

    async def _commit(self, batch: list[_Submission]) -> None:
        """Stage ``batch``, forward it (early forwarding), append it, then publish and acknowledge.

        With early forwarding, operations queued while a batch's append is in flight are staged
        and forwarded at once (each as it arrives), then appended together right after it: the
        others never wait for an earlier batch's fsync (docs/benchmarks.md, "The live path").
        They join ``batch`` (so a failure refuses them too) and are acknowledged after their own
        append, in order. At most ``PIPELINED_GROUPS`` appends follow each other this way before
        the lock is let go, so readers waiting for it get their turn.
        """
        group = self._stage(batch, self.seq, seeds=True, defer=self.early is not None)
        groups = 1
        while group is not None:
            follow, error = await self._persist(group, batch, take=groups < PIPELINED_GROUPS)
            if error is not None:
                raise error
            group = follow
            groups += 1

    def _stage(
        self, batch: Sequence[_Submission], base: int, *, seeds: bool = False, defer: bool = False
    ) -> _Group | None:
        """Validate and apply ``batch`` in memory (refusals answered at once), numbered after ``base``.

        With ``defer`` the last operation staged is only admitted (validated): it is integrated,
        and the central client observes it, once it was forwarded (``_forward_then_settle``). Those two are
        more than half of the staging, so the others see it that much sooner (docs/benchmarks.md,
        "Forward, then integrate")."""
        staged: list[tuple[_Submission | None, Sequenced]] = []
        # Operations queued behind the one that satisfied the template: refused once the
        # completion is durable (if the append fails they get the batch's failure instead).
        late: list[_Submission] = []
        if seeds:
            self._sequence_inserts(staged)  # seeds planned at launch or recovery
            if self._gold_due and not self.sequencer.satisfied:
                # After the seeds, as a replay expects (crowdfill.central_client.sequencer).
                staged.extend((None, self.sequencer.apply(op)) for op in gold_inserts(self.spec, self.table))
                self._gold_due = False
        unsettled: Sequenced | None = None
        for submission in batch:
            if submission.future.done():
                continue  # the sender went away before its turn
            if unsettled is not None:
                # The checks below read the table: the operation before this one is in it first.
                self._settle_one(unsettled, staged)
                unsettled = None
            if self.sequencer.satisfied:
                late.append(submission)
                continue
            if submission.op.worker in self.blocked and not isinstance(submission.op, Reweigh):
                _answer(
                    submission, failure=Failure("worker_blocked", "you have been blocked from this table")
                )
                continue
            stale = self._stale_fill(submission) or _stale_reweigh(self.table, submission.op)
            if stale is not None:
                _answer(submission, failure=stale)
                continue
            try:
                op = self.sequencer.admit(submission.op)
            except CrowdFillError as error:
                _answer(submission, failure=Failure(error.code, error.message))
                continue
            staged.append((submission, op))
            if isinstance(op, Fill):
                # Its seq once the batch is appended (records are numbered in staging order).
                self._record_fill(op, base + len(staged))
            unsettled = op
        if unsettled is not None and not defer:
            self._settle_one(unsettled, staged)
            unsettled = None
        complete = unsettled is None and self._completes()
        if not staged:
            return None
        records, published = self._entries(staged, base)
        return _Group(staged, late, complete, records, published, unsettled=unsettled)

    def _completes(self) -> bool:
        """Whether the template is satisfied now (then the central client's plans are dropped)."""
        if not self.sequencer.satisfied:
            return False
        self.sequencer.discard_planned()  # inserts for a complete table are never needed
        return True

    def _settle_one(self, op: Sequenced, staged: list[tuple[_Submission | None, Sequenced]]) -> None:
        """Integrate the admitted ``op``, then stage the inserts the central client calls for."""
        self.sequencer.settle(op)
        self._sequence_inserts(staged)

    async def _forward_then_settle(self, group: _Group) -> _Group:
        """Forward ``group`` to this process's other clients (early), then integrate its last
        operation if it was only admitted (``_stage``'s ``defer``): the group as it is then, with
        the central client's inserts that operation called for, forwarded right after it."""
        early = self.early
        assert early is not None  # only called with early forwarding
        await early.forward(self, [entry for _, entry in group.published])
        op = group.unsettled
        if op is None:
            return group
        group.unsettled = None
        inserts: list[tuple[_Submission | None, Sequenced]] = []
        self._settle_one(op, inserts)
        group.complete = self._completes()
        if not inserts:
            return group
        records, published = self._entries(inserts, group.records[-1].seq)
        await early.forward(self, [entry for _, entry in published])
        return group.extended(_Group(inserts, [], group.complete, records, published, group.forwarded))

    def _entries(
        self, staged: Sequence[tuple[_Submission | None, Sequenced]], base: int
    ) -> tuple[list[LogRecord], list[tuple[_Submission | None, Published]]]:
        """The log records of ``staged`` (numbered after ``base``) and what is published of them."""
        now = time.time()
        records = [
            LogRecord(base + index, sequenced_to_wire(op), now) for index, (_, op) in enumerate(staged, 1)
        ]
        early = self.early is not None
        published: list[tuple[_Submission | None, Published]] = []
        for record, (sender, op) in zip(records, staged, strict=True):
            author = CENTRAL_CLIENT if isinstance(op, Reweigh) else op.worker  # a reweigh is the server's
            origin = sender.origin if sender is not None else None
            entry = Published(record.seq, public_op(record.operation), origin, author, early)
            published.append((sender, entry))
        return records, published

    async def _persist(
        self, group: _Group, batch: list[_Submission], *, take: bool
    ) -> tuple[_Group | None, Exception | None]:
        """Forward (early) and append ``group``, then publish and acknowledge it. Returns what was
        staged and forwarded while its append was in flight (``take``), and the fault that stopped
        that staging, if any (raised by the caller once ``group`` is settled)."""
        early = self.early
        follow: _Group | None = None
        error: Exception | None = None
        if early is not None and not group.forwarded:
            # The others see the batch now; if the append below fails, _process resets them.
            self._unsure = True
            group = await self._forward_then_settle(group)
        entries = [entry for _, entry in group.published]
        assert group.unsettled is None  # every deferred operation was forwarded and integrated
        # A StoreError here propagates to _process, which refuses the batch and rebuilds the
        # table from storage (the in-memory state is ahead of the durable log).
        if early is None or group.complete or not take:
            await self._store.append(self.table_id, group.records, epoch=self.epoch)
        else:
            group, follow, error = await self._append_taking(group, batch)
            entries = [entry for _, entry in group.published]
        # What followed was forwarded (perhaps in part, before a fault) and is not durable yet.
        self._unsure = follow is not None or error is not None
        self.seq = group.records[-1].seq
        for (_, op), entry in zip(group.staged, entries, strict=True):
            if not isinstance(op, Reweigh):
                self.ops_by_worker[entry.worker] += 1
            self._recent.append((entry.seq, entry.op))
        await self._listener.published(self, entries)
        for sender, entry in group.published:
            if sender is not None:
                _answer(sender, published=entry)
        # The estimates are bookkeeping nobody waits for: they follow the forwards and the
        # acknowledgements (still under the lock, so readers see them in step with the table).
        for _, op in group.staged:
            if isinstance(op, Reweigh):
                self.estimator.reweighed()
            else:
                self.estimator.observe(op)
        # Snapshots and captures are of the table at ``self.seq``: not while more is applied.
        settled = follow is None and error is None
        if group.complete:
            await self._finish(COMPLETE, self.seq)
            for submission in group.late:
                _answer(submission, failure=_not_live(self.status))
        elif settled and self.seq - self.snapshot_seq >= self._settings.snapshot_every:
            await self._save_snapshot()
        if self.on_commit is not None:
            self.on_commit(self)
        if settled and self.live and self._capturer.due():
            self._capturer.start()
        self._listener.changed(self)
        return follow, error

    async def _append_taking(
        self, group: _Group, batch: list[_Submission]
    ) -> tuple[_Group, _Group | None, Exception | None]:
        """Append ``group``; meanwhile stage and forward (early) what is queued, as it arrives.

        With ``Settings.commit_linger_seconds``, what arrives that long after ``group`` was
        forwarded joins ``group`` before its append starts: forwarded at once, as it arrives, and
        made durable in the same commit (one fsync for more operations, docs/benchmarks.md, "The
        live path"). Returns the group appended, what followed it, and the fault that stopped the
        staging, if any."""
        loop = asyncio.get_running_loop()
        error: Exception | None = None
        if self._settings.commit_linger_seconds > 0:
            group, error = await self._linger(
                group, batch, loop.time() + self._settings.commit_linger_seconds
            )
        assert group.unsettled is None  # the pieces the linger added were settled as they came
        append = asyncio.ensure_future(self._store.append(self.table_id, group.records, epoch=self.epoch))
        follow: _Group | None = None
        try:
            while not append.done():
                if error is not None or self.sequencer.satisfied or self._queue.empty():
                    # Woken by the append's end or by ``submit`` (an arrival): one future and one
                    # callback, lighter than ``asyncio.wait`` on the two (it runs once per append).
                    arrival = self._arrival = loop.create_future()
                    wake = functools.partial(_wake, arrival)
                    append.add_done_callback(wake)
                    try:
                        await arrival
                    finally:
                        self._arrival = None
                        append.remove_done_callback(wake)
                    if error is not None or self.sequencer.satisfied:
                        await asyncio.wait((append,))
                    continue
                try:
                    piece = await self._stage_arrivals(batch, (follow or group).records[-1].seq)
                except Exception as fault:  # noqa: BLE001  # raised by _commit once ``group`` is settled
                    error = fault
                    continue
                if piece is not None:
                    follow = piece if follow is None else follow.extended(piece)
        except BaseException:
            append.cancel()  # cancelled (the owner stops): as an awaited append would be
            raise
        await append  # a StoreError refuses ``group`` and everything that followed it (_process)
        return group, follow, error

    async def _linger(
        self, group: _Group, batch: list[_Submission], deadline: float
    ) -> tuple[_Group, Exception | None]:
        """``group`` and what is staged and forwarded (early) until ``deadline`` (loop time), as
        one group for one append; and the fault that stopped the staging, if any."""
        loop = asyncio.get_running_loop()
        while not self.sequencer.satisfied and len(group.records) < self._settings.batch_max_ops:
            if self._queue.empty():
                wait = deadline - loop.time()
                if wait <= 0:
                    break
                # Woken by ``submit`` (an arrival) or at the deadline.
                arrival = self._arrival = loop.create_future()
                timer = loop.call_later(wait, _wake, arrival)
                try:
                    await arrival
                finally:
                    self._arrival = None
                    timer.cancel()
                continue
            try:
                piece = await self._stage_arrivals(batch, group.records[-1].seq)
            except Exception as fault:  # noqa: BLE001  # raised by _commit once ``group`` is settled
                return group, fault
            if piece is not None:
                group = group.extended(piece)
        return group, None

    async def _stage_arrivals(self, batch: list[_Submission], base: int) -> _Group | None:
        """Take what is queued (up to ``batch_max_ops``) into ``batch``, stage it numbered after
        ``base`` and forward it (early): the group staged, if any. A fault is raised to the caller,
        which settles what it holds first."""
        taken: list[_Submission] = []
        while len(taken) < self._settings.batch_max_ops and not self._queue.empty():
            taken.append(self._queue.get_nowait())
        batch.extend(taken)  # a failed append refuses them too (_process)
        piece = self._stage(taken, base, defer=True)
        if piece is not None:
            piece = await self._forward_then_settle(piece)
            piece.forwarded = True
        return piece

    def _sequence_inserts(self, staged: list[tuple[_Submission | None, Sequenced]]) -> None:
        """Apply the central client's planned inserts, one at a time, until satisfied or none is left."""
        while not self.sequencer.satisfied:
            insert = self.sequencer.next_insert()
            if insert is None:
                return
            # The central client's inserts go through validation too: a bug there must not
            # corrupt the table (it surfaces as a refused batch, see _process).
            staged.append((None, self.sequencer.apply(insert)))

    def _stale_fill(self, submission: _Submission) -> Failure | None:
        """``row_replaced`` for a fill of a row its sender had already seen replaced.

        Only a fill whose sender had not seen the replacement is a concurrent fill (DESIGN §2),
        resolved by duplication; any other is a stale client (or a script re-filling an old id),
        and accepting it would add a row per message.
        """
        op, seen = submission.op, submission.seen_seq
        if not isinstance(op, Fill):
            return None
        replaced = self._replaced.get(op.row_id)
        own = replaced[:2] if replaced is not None and replaced[2] == op.worker else None
        if own is None:
            own = self._filled.get((op.row_id, op.worker))
        if own is not None:
            at, by = own
            why = "by your own fill"
        else:
            if seen is None or replaced is None or replaced[0] > seen:
                return None
            at, by, _ = replaced
            why = f"which you had seen (seen_seq {seen})"
        return Failure(
            "row_replaced",
            f"row {op.row_id!r} was replaced by row {by!r} at seq {at}, {why}; "
            "fill the row that holds its values now",
            {"row_id": op.row_id, "replaced_by": by, "replaced_at_seq": at},
        )

    def fill_authors(self) -> dict[str, str]:
        """Row id -> the worker whose fill added it (rows the central client inserted are absent)."""
        authors = {new_row_id: worker for _, new_row_id, worker in self._replaced.values()}
        authors.update((new_row_id, worker) for (_, worker), (_, new_row_id) in self._filled.items())
        return authors

    def _record_fill(self, op: Fill, seq: int) -> None:
        first = self._replaced.get(op.row_id)
        if first is None:
            self._replaced[op.row_id] = (seq, op.new_row_id, op.worker)
        elif first[2] != op.worker:
            self._filled.setdefault((op.row_id, op.worker), (seq, op.new_row_id))

    # ------------------------------------------------------------------ closing
    async def _finish(self, status: str, end_seq: int | None = None) -> None:
        """Close the table; ``end_seq`` is the operation that completed it (default: the last one)."""
        self.table.close()
        self.status = status
        self.end_seq = self.seq if end_seq is None else end_seq
        await self._store.put_item(
            self.table_id, COMPLETION_KIND, "final", {"status": status, "seq": self.end_seq}
        )
        # Settling and the final rows allocate per final row over a heap of the whole table:
        # without the pause, collections that free nothing were most of a big table's close.
        with collector_paused():
            self.settlement = await self._settle(persist=True)
            await self._store.update_table(self.table_id, status=status, at=time.time())
            await self._keep_final_state()
            await record_finished(self._store, self)  # reads and exports need not load it again
        await self._listener.completed(self)
        self._listener.changed(self)

    async def _settle(self, *, persist: bool) -> Settlement:
        # The estimator's ledger took every applied operation as it came (and is rebuilt with the
        # table on recovery), so the settlement needs neither the log nor a second pass over it.
        settlement = self.estimator.final_settlement(completed=self.status == COMPLETE)
        if persist:
            await self._store.put_item(self.table_id, SETTLEMENT_KIND, "final", settlement.to_dict())
        return settlement

    async def _load_settlement(self) -> Settlement:
        """The settlement of a finished table: recomputed from its ledger (it is deterministic)."""
        settlement = await self._settle(persist=False)
        if await self._store.get_item(self.table_id, SETTLEMENT_KIND, "final") is None:
            await self._store.put_item(self.table_id, SETTLEMENT_KIND, "final", settlement.to_dict())
        return settlement

    async def _keep_final_state(self) -> None:
        """What loading the finished table again starts from. With captures on, a state capture,
        taken in the background (a forked child pickles it; the close does not wait for it): until
        it is stored, a load starts from the previous capture and replays the log after it. With
        captures off, a snapshot of every row, written now."""
        if self._settings.capture_every > 0:
            self._capturer.start_final()
        else:
            await self._save_snapshot()

    async def _save_snapshot(self) -> None:
        await self._store.save_snapshot(self.table_id, self.seq, snapshot(self.table))
        self.snapshot_seq = self.seq


def _stale_reweigh(table: CandidateTable, op: Sequenced) -> Failure | None:
    """A reweigh must be the next version of its worker's: one computed on an older state loses."""
    if not isinstance(op, Reweigh):
        return None
    held = {reweigh.worker: reweigh.version for reweigh in table.reweighs()}.get(op.worker, 0)
    if op.version == held + 1:
        return None
    return Failure(
        "reweigh_stale", f"reweigh of {op.worker!r} has version {op.version}; the next is {held + 1}"
    )


def _wake(arrival: asyncio.Future[None], _append: object = None) -> None:
    if not arrival.done():
        arrival.set_result(None)


def _answer(
    submission: _Submission, *, published: Published | None = None, failure: Failure | None = None
) -> None:
    if not submission.future.done():
        submission.future.set_result(Outcome(published, failure))


def _not_leading() -> Failure:
    return Failure("store_unavailable", "this server stopped sequencing the table; retry")


def _not_live(status: str) -> Failure:
    if status in (COMPLETE, CLOSED):
        return Failure("table_closed", "the table is complete and accepts no more operations")
    return Failure("table_not_live", f"the table is {status}, not live")
