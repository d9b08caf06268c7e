"""Restarting a table from its state capture plus the log tail, and writing captures (docs/scale.md).

``restore`` loads the table's capture (``crowdfill.server.capture``) into the owner and replays
only the operations logged after it, one at a time through the restored sequencer, to the state
the live owner reached: the central client is handed the row ids its logged inserts carry, so it
plans exactly those inserts and nothing stays pending; the votes are not validated again, and the
estimator (the capture's second pickle) is loaded and its share of the tail done in the background
once the table serves. When no capture is stored, or the stored one is refused, it returns None
and the owner replays the whole log as before.

``Capturer`` writes captures every ``Settings.capture_every`` operations without stalling the owner:
where the platform can fork, a child process (a copy-on-write image of the owner's state at that
instant) pickles it and streams the bytes back through a pipe while the owner goes on; the store
then keeps them in one atomic write. A crash at any point leaves the previous capture and the log.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crowdfill.central_client.sequencer import replay
from crowdfill.compensation import Estimator
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.server.capture import CaptureRefused, decode, definition_digest, encode
from crowdfill.server.gold import public_op
from crowdfill.server.heap import collector_paused, promote_to_oldest, release_freed_memory
from crowdfill.store.port import LogRecord, StoreError

if TYPE_CHECKING:
    from crowdfill.server.owner import TableOwner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restored:
    """A restore's outcome: the capture's seq, how many tail operations were replayed, and where the
    table completed (None if it did not)."""

    capture_seq: int
    tail: int
    completion_seq: int | None


def _key(owner: TableOwner) -> bytes:
    return owner._settings.secret.encode()


def _state(owner: TableOwner) -> tuple[Any, ...]:
    """What a restored table needs to serve and to replay its log tail (the estimator defers its
    share of the tail): loaded first."""
    return (
        owner.table,
        owner.central,
        owner.sequencer,
        owner.ops_by_worker,
        owner._replaced,
        owner._filled,
    )


def _rest(owner: TableOwner) -> tuple[Any, ...]:
    """The rest, loaded once the table serves: the estimator, about half of the pickle."""
    owner.estimator.catch_up()  # a capture holds it caught up (nothing deferred)
    return (owner.estimator,)


def capture_bytes(owner: TableOwner) -> bytes:
    """The owner's state now, signed (in the caller's process: it takes as long as pickling it)."""
    return encode(
        _key(owner),
        owner.table_id,
        owner.seq,
        definition_digest(owner.spec.definition),
        _state(owner),
        owner._new_row_id,
        _rest(owner),
    )


async def restore_capture(owner: TableOwner) -> Restored | None:
    """Load the stored capture and replay the log after it into ``owner``; None to replay it all."""
    saved = await owner._store.load_capture(owner.table_id)
    if saved is None:
        return None
    seq, blob = saved
    if seq == owner._capturer.refused:
        logger.warning(
            "table %s: the state capture at seq %d is not used: its rest did not load", owner.table_id, seq
        )
        return None
    try:
        captured = decode(
            _key(owner),
            blob,
            table_id=owner.table_id,
            seq=seq,
            definition=definition_digest(owner.spec.definition),
            row_ids=owner._new_row_id,
        )
    except CaptureRefused as error:
        logger.warning("table %s: the state capture at seq %d is not used: %s", owner.table_id, seq, error)
        return None
    del blob, saved
    table, central, sequencer, ops_by_worker, replaced, filled = captured.state
    owner.table, owner.central, owner.sequencer = table, central, sequencer
    owner.ops_by_worker, owner._replaced, owner._filled = ops_by_worker, replaced, filled
    # The estimator is loaded from the capture's second pickle when it is first needed: in the
    # background a moment after the table serves (``Capturer.catch_up_later``), or by whatever
    # reads the estimates or gives it an operation it cannot defer before then.
    owner.estimator = Estimator.arriving(
        table, functools.partial(_arriving_estimator, owner, seq, captured.rest)
    )
    tail = await owner._store.read_log(owner.table_id, after_seq=seq)
    # The collector stays paused while the tail replays too, and what it leaves joins the restored
    # state in the oldest generation: the young collections during it moved their survivors there
    # one by one, each counted towards the next full collection, which then came due just after
    # the restore (about 0.4 s walking a million-operation table's heap, to free nothing).
    with collector_paused():
        completion = _replay_tail(owner, tail, seq)
        promote_to_oldest()
    owner.seq = tail[-1].seq if tail else seq
    owner.snapshot_seq = owner.seq
    window = max(1, owner._settings.replay_window)
    recent = tail[-window:] if len(tail) >= window else await _recent(owner, window)
    owner._recent = collections.deque(((r.seq, public_op(r.operation)) for r in recent), maxlen=window)
    owner._capturer.captured(seq)
    owner._capturer.catch_up_later()
    replayed = len(tail)
    del tail, recent, captured  # the capture's bytes stay with its rest until the estimator arrives
    # The decoded tail is freed by now (the capture's bytes go when the estimator arrives).
    release_freed_memory()
    return Restored(seq, replayed, completion)


def _arriving_estimator(owner: TableOwner, seq: int, rest: Callable[[], tuple[Any, ...]]) -> Estimator:
    """The restored estimator, from the rest of the capture at ``seq``. If it does not load (the
    signed capture's first part did, so this is not expected), the capture is refused from now
    on and the owner is stale: its next batch rebuilds the table from the log, and reads of the
    estimates fail until then."""
    try:
        loaded = rest()
        if len(loaded) != 1 or not isinstance(loaded[0], Estimator):
            raise CaptureRefused("the rest of its state has an unknown shape")
    except CaptureRefused as error:
        logger.error(
            "table %s: the estimator of the state capture at seq %d does not load (%s); "
            "rebuilding the table from its log",
            owner.table_id,
            seq,
            error,
        )
        owner._capturer.refused = seq
        owner._stale = True
        raise
    estimator: Estimator = loaded[0]
    return estimator


async def _recent(owner: TableOwner, window: int) -> list[LogRecord]:
    # The replay window comes from the store: the capture does not carry the operations themselves.
    return await owner._store.read_log(owner.table_id, after_seq=max(0, owner.seq - window))


def _replay_tail(owner: TableOwner, tail: Sequence[LogRecord], base_seq: int) -> int | None:
    """Apply the logged operations after the capture as the live owner did; the completion seq.

    The restored sequencer goes on where the live one was (``start=False``); its central client
    draws the row ids of the inserts it plans from the log, so its plans are the logged inserts. If
    the log departs from them (a log written by an older server), ``replay`` rebuilds the central
    client from the table at that point, as a full replay does. Its votes and retracts are not
    validated again (``trusted``): they are the canonical ones the live owner validated and logged,
    one after another from the captured state, so validating them again would return them as they
    are. The estimator notes what it reads from the table and does the rest later (``defer``).
    """
    entries = [(record.seq, sequenced_from_wire(record.operation)) for record in tail]
    owner.estimator.defer()  # its work is done once the table serves (``Capturer.catch_up_later``)
    try:
        replayed = replay(
            owner.sequencer,
            entries,
            base_seq=base_seq,
            start=False,
            on_applied=lambda seq, op: owner.account(op, seq),
            trusted=True,
        )
    finally:
        owner.estimator.stop_deferring()
    for divergence in replayed.divergences:
        logger.error("table %s: replaying the log after its capture: %s", owner.table_id, divergence)
    return replayed.completion_seq


class Capturer:
    """Writes one table's captures in the background; at most one at a time."""

    def __init__(self, owner: TableOwner) -> None:
        self._owner = owner
        self.seq = 0  # the seq of the last capture stored (or restored)
        self.refused: int | None = None  # the seq of a stored capture whose rest did not load
        self._taking = 0  # the seq of the capture in progress, if any
        self._task: asyncio.Task[None] | None = None
        self._catching_up: asyncio.Task[None] | None = None

    def captured(self, seq: int) -> None:
        self.seq = seq

    def catch_up_later(self) -> None:
        """Load the restored estimator (the capture's second pickle) and do its deferred work for
        the log tail (see ``_replay_tail``) in the background, a hundred operations at a time with
        pauses between (``CATCH_UP_CHUNK``), starting ``CATCH_UP_DELAY`` after the restore, while
        the table serves. Whatever reads the estimates, or gives the estimator an operation, first
        does what is left itself. Called after every restore (a restart, a rebuild after a storage
        failure, a takeover): one still under way for an earlier restore is cancelled (it is only
        ever paused between steps, so nothing is left half done) and this one starts afresh, so
        each restore gets its delay. A failure is logged and the table rebuilt from its log
        (``_caught_up``)."""
        owner = self._owner
        if self._catching_up is not None:
            self._catching_up.cancel()  # a no-op on one that has ended
            self._catching_up = None
        estimator = owner.estimator
        if estimator.deferred or not estimator.arrived:
            task = asyncio.create_task(_catch_up(owner), name=f"estimates:{owner.table_id}")
            task.add_done_callback(functools.partial(self._caught_up, self.seq))
            self._catching_up = task

    def _caught_up(self, seq: int, task: asyncio.Task[None]) -> None:
        """The background catch-up for the restore from the capture at ``seq`` ended. Nobody awaits
        it, so a failure is told here, and handled as a second pickle that does not load is
        (``_arriving_estimator``): the capture is refused from now on and the owner is stale, so
        its next batch rebuilds the table from the log. What failed stays deferred
        (``Estimator.catch_up``): until the rebuild, a read works it again, and fails again if it
        is no passing fault."""
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        owner = self._owner
        logger.error(
            "table %s: catching the estimator up after the restore from the state capture at seq %d "
            "failed (%s); rebuilding the table from its log",
            owner.table_id,
            seq,
            error,
            exc_info=error,
        )
        self.refused = seq
        owner._stale = True

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def due(self) -> bool:
        every = self._owner._settings.capture_every
        return every > 0 and not self.busy and self._owner.seq - self.seq >= every

    def covers(self, seq: int) -> bool:
        """Whether a capture at ``seq`` or later is stored, or being taken."""
        return self.seq >= seq or (self.busy and self._taking >= seq)

    def start(self) -> None:
        """Begin a capture of the owner's state now (call while the state is consistent)."""
        owner = self._owner
        seq = owner.seq
        reader = _fork_capture(owner)
        self._taking = seq
        self._task = asyncio.create_task(self._write(seq, reader), name=f"capture:{owner.table_id}")

    def start_final(self) -> None:
        """Capture a finished table's state once any capture in progress is done (it no longer
        changes, so it can be taken a moment later): what loading it again starts from."""
        owner = self._owner
        seq, previous = owner.seq, self._task
        self._taking = seq
        self._task = asyncio.create_task(self._final(seq, previous), name=f"capture:{owner.table_id}")

    async def _final(self, seq: int, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            # asyncio.wait neither passes a cancel of this task on to the earlier capture nor
            # hides it: a suppressed ``await previous`` could not tell the two cancels apart.
            await asyncio.wait((previous,))
        await self._write(seq, _fork_capture(self._owner))

    def cancel(self) -> None:
        """Stop waiting for a capture in progress (its child, if any, still finishes on its own),
        and stop catching the estimator up in the background (``stopped`` waits for that)."""
        if self._task is not None:
            self._task.cancel()
        if self._catching_up is not None:
            self._catching_up.cancel()

    async def stopped(self) -> None:
        """Wait until a background catch-up cancelled by ``cancel`` has ended (the owner stops):
        a task left pending when the loop closes is destroyed with a warning."""
        task, self._catching_up = self._catching_up, None
        if task is not None:
            # asyncio.wait neither raises what the task ended with (a failure is told by
            # ``_caught_up``) nor cancels it if the caller is cancelled meanwhile.
            await asyncio.wait((task,))

    async def landed(self, deadline: float) -> bool:
        """Wait for a capture in progress until the monotonic clock reaches ``deadline``; whether
        none is in progress any more. Unlike ``wait``, a cancel of the caller is not swallowed,
        and the capture is not cancelled at the deadline."""
        task = self._task
        if task is None or task.done():
            return True
        done, _ = await asyncio.wait((task,), timeout=max(0.0, deadline - time.monotonic()))
        return bool(done)

    async def wait(self) -> None:
        """Let a capture in progress finish (tests, shutdown)."""
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _write(self, seq: int, reader: _Reader) -> None:
        owner = self._owner
        try:
            blob = await reader.read()
            await owner._store.save_capture(owner.table_id, seq, blob)
        except (StoreError, OSError, CaptureRefused) as error:
            logger.error(
                "table %s: writing the state capture at seq %d failed: %s", owner.table_id, seq, error
            )
            return
        self.seq = max(self.seq, seq)


# The estimator's deferred work after a restore, paced so requests are served meanwhile: it starts
# a second after the restore (a restarted server starts listening and answers its first requests
# first; whatever reads the estimates before then catches up itself), then does this
# many operations (about 10 ms at a million logged operations) and pauses as long, until done.
# The first step also loads the estimator from the capture's second pickle (about 0.4 s at a
# million operations, in one piece): three seconds, not one, because at one a restart on a busy
# machine was still starting to listen and that load came before its first answer.
CATCH_UP_DELAY = 3.0
CATCH_UP_CHUNK = 100
CATCH_UP_PAUSE = 0.01


async def _catch_up(owner: TableOwner) -> None:
    # A failure other than a refused capture ends the task: ``Capturer._caught_up`` tells it.
    await asyncio.sleep(CATCH_UP_DELAY)
    try:
        owner.estimator.arrive()
    except CaptureRefused:
        return  # logged, and the owner rebuilds from the log (``_arriving_estimator``)
    while owner.estimator.catch_up(CATCH_UP_CHUNK):
        await asyncio.sleep(CATCH_UP_PAUSE)


class _Reader:
    """The bytes of a capture being made: already there, or coming from a forked child."""

    def __init__(self, blob: bytes | None = None, fd: int | None = None, pid: int | None = None) -> None:
        self._blob, self._fd, self._pid = blob, fd, pid

    async def read(self) -> bytes:
        if self._blob is not None:
            return self._blob
        assert self._fd is not None
        assert self._pid is not None
        return await asyncio.to_thread(_drain_child, self._fd, self._pid)


def _drain_child(fd: int, pid: int) -> bytes:
    chunks: list[bytes] = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise CaptureRefused(f"the capturing child process failed (status {status})")
    return b"".join(chunks)


def _fork_capture(owner: TableOwner) -> _Reader:
    owner.estimator.catch_up()  # here, not in the child only (the capture holds it caught up)
    fork = getattr(os, "fork", None)
    if fork is None or not owner._settings.capture_fork:
        return _Reader(blob=capture_bytes(owner))  # no fork here: pickle in the owner's turn
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process may deadlock the child if it touches
        # a lock another thread held. The child only pickles and writes to a pipe, then _exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = fork()
    if pid == 0:  # the child: a frozen copy of the owner's state
        status = 1
        try:
            # Let go of inherited descriptors (the listening socket, store connections), so a
            # restarted server can bind its port while an orphaned child is still pickling.
            os.closerange(3, write_fd)
            os.closerange(write_fd + 1, os.sysconf("SC_OPEN_MAX"))
            blob = capture_bytes(owner)
            view = memoryview(blob)
            while view:
                written = os.write(write_fd, view)
                view = view[written:]
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    return _Reader(fd=read_fd, pid=pid)
