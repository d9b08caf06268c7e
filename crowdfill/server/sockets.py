"""Socket.IO: the ``/worker`` and ``/monitor`` namespaces and the owners' fan-out (docs/protocol.md).

``Fanout`` is the owners' listener: it forwards published operations to the table's room (skipping
the sender, who gets an acknowledgement instead; with early forwarding, before they are durable,
and a fresh snapshot to everyone if they are lost), tells every worker when the table completes, and
marks tables whose monitor view and workers' estimates must be refreshed. ``Pulse`` refreshes them
at a bounded rate, so a burst of operations costs one monitor update, not one per operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import socketio

from crowdfill.model.codec import operation_to_wire
from crowdfill.server import delivery, own_votes
from crowdfill.server.failures import Failure
from crowdfill.server.gold import replay_reveals_gold
from crowdfill.server.in_flight import InFlight
from crowdfill.server.owner import Outcome, TableOwner
from crowdfill.server.payloads import Request, request, single_payload
from crowdfill.server.presence import Presence, WorkerSession
from crowdfill.server.ratelimit import EdgeGuard, RateLimit
from crowdfill.server.roster import Roster
from crowdfill.server.screening import Screenings, with_screening
from crowdfill.server.settings import Settings
from crowdfill.server.socket_writer import run_until_suspended
from crowdfill.server.standing import standing_of
from crowdfill.server.tables import Tables
from crowdfill.server.views import monitor_json, plain_rows, template_rows
from crowdfill.server.wire_guard import GuardedServer
from crowdfill.store.port import StoreError

logger = logging.getLogger(__name__)

WORKER = "/worker"
MONITOR = "/monitor"
_OPERATIONS = ("fill", "upvote", "downvote", "retract")


def table_room(table_id: str) -> str:
    return f"table:{table_id}"


def monitor_room(table_id: str) -> str:
    return f"monitor:{table_id}"


def refuse(failure: Failure) -> socketio.exceptions.ConnectionRefusedError:
    return socketio.exceptions.ConnectionRefusedError(
        failure.message, {**failure.details, "code": failure.code, "message": failure.message}
    )


def error_ack(failure: Failure) -> dict[str, Any]:
    return {"ok": False, "error": {**failure.details, "code": failure.code, "message": failure.message}}


def outcome_ack(outcome: Outcome) -> dict[str, Any]:
    """The ack of an operation the owner resolved."""
    if outcome.failure is not None:
        return error_ack(outcome.failure)
    assert outcome.published is not None  # an Outcome holds one of the two
    return {"ok": True, "seq": outcome.published.seq, "op": outcome.published.op}


def _future_ack(future: asyncio.Future[Outcome]) -> dict[str, Any]:
    if future.cancelled():  # the owner stopped before it sequenced the operation
        return error_ack(Failure("table_not_live", "the table stopped before this operation was sequenced"))
    return outcome_ack(future.result())


# How long a connection the server ends may wait for the answers to its accepted operations.
_ANSWERS_WAIT_SECONDS = 5.0

_running: set[asyncio.Task[None]] = set()  # ``_in_task``'s tasks until they end (the loop holds them weakly)


def _in_task(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coroutine)
    _running.add(task)
    task.add_done_callback(_running.discard)


def _unanswered(answer: Any) -> None:
    """``reply`` of an event sent without an ack id: the answer goes nowhere, as on the libraries' path."""


class _Dropped(Exception):
    """A refusal after which the connection is ended (``WorkerNamespace._drop``)."""

    def __init__(self, failure: Failure, code: str, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.code = code
        self.text = text


class Fanout:
    """Implements ``OwnerListener`` on top of the Socket.IO server."""

    def __init__(self, sio: socketio.AsyncServer, presence: Presence) -> None:
        self._sio = sio
        self._presence = presence
        self.dirty: set[str] = set()
        self.estimates_dirty: set[str] = set()
        self.wake = asyncio.Event()
        self._encode = delivery.socketio_encoder(sio.packet_class, WORKER)

    async def published(self, owner: TableOwner, entries: Sequence[Any]) -> None:
        # Entries the owner forwarded before its append (``forward``) already went out.
        late = [entry for entry in entries if not getattr(entry, "early", False)]
        if late:
            await self.forward(owner, late)

    async def forward(self, owner: TableOwner, entries: Sequence[Any]) -> None:
        """``entries`` to this process's clients of the table (the owner's ``EarlyForward`` too)."""
        # The whole batch goes to each recipient as one frame, encoded once (crowdfill.server.delivery)
        # and handed to each connection's Engine.IO socket: written to its WebSocket at once when
        # its writer is idle (crowdfill.server.socket_writer), else queued.
        recipients = list(self._sio.manager.get_participants(WORKER, table_room(owner.table_id)))
        eio = self._sio.eio
        await delivery.forward(recipients, entries, self._encode, eio.send_packet, eio.write_to_each)

    async def reset(self, owner: TableOwner) -> None:
        """A batch forwarded early was lost: every client in the room gets a fresh snapshot of the
        rebuilt table (with the new incarnation). Called by the owner under its lock."""
        for sid, _ in list(self._sio.manager.get_participants(WORKER, table_room(owner.table_id))):
            session = self._presence.worker(sid)
            if session is not None:
                await self._sio.emit("snapshot", worker_snapshot(session, owner), to=sid, namespace=WORKER)

    async def published_to(self, sid: str, entries: Sequence[Any]) -> None:
        """``entries`` to one session only (forwards a follower held back, crowdfill.server.withheld)."""
        event = delivery.batch_event(entries)
        if event is not None:
            await self._sio.emit(*event, to=sid, namespace=WORKER)

    async def completed(self, owner: TableOwner) -> None:
        await self.completed_for(owner, self._presence.sessions(owner.table_id))

    async def completed_for(self, owner: TableOwner, sessions: Sequence[WorkerSession]) -> None:
        satisfaction = owner.central.satisfaction()
        final = plain_rows(owner.table, final=True)
        payments = owner.settlement.payments if owner.settlement is not None else {}
        for session in sessions:
            await self._sio.emit(
                "complete",
                {
                    "status": owner.status,
                    "final": final,
                    "satisfaction": {str(p): r for p, r in satisfaction.items()} if satisfaction else None,
                    "pay_cents": int(payments.get(session.worker_id, 0)),
                    "seq": owner.seq,
                },
                to=session.sid,
                namespace=WORKER,
            )

    def changed(self, owner: TableOwner) -> None:
        self.dirty.add(owner.table_id)
        self.estimates_dirty.add(owner.table_id)
        self.wake.set()


class Pulse:
    """Coalesced monitor snapshots and estimate updates, at most one per interval per table."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        fanout: Fanout,
        presence: Presence,
        tables: Tables,
        settings: Settings,
    ) -> None:
        self._sio = sio
        self._fanout = fanout
        self._presence = presence
        self._tables = tables
        self._settings = settings
        self._sent_estimates: dict[str, dict[str, Any]] = {}
        self._estimates_due = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._fanout.wake.wait()
            self._fanout.wake.clear()
            dirty, self._fanout.dirty = self._fanout.dirty, set()
            try:
                await self._refresh(dirty, loop.time())
            except (Failure, StoreError) as error:
                # One table's trouble must not stop live updates for the others; the next change retries.
                logger.warning("live update skipped: %s", error)
            await asyncio.sleep(self._settings.monitor_interval_seconds)

    async def _refresh(self, dirty: set[str], now: float) -> None:
        for table_id in dirty:
            await self.push_monitor(table_id)
        if now >= self._estimates_due:
            self._estimates_due = now + self._settings.estimate_interval_seconds
            due, self._fanout.estimates_dirty = self._fanout.estimates_dirty, set()
            for table_id in due:
                await self.push_estimates(table_id)
        elif self._fanout.estimates_dirty:
            self._fanout.wake.set()  # come back for the estimates when they are due

    async def push_monitor(self, table_id: str, to: str | None = None) -> None:
        if to is None and not self._presence.has_monitors(table_id):
            return
        payload = await monitor_payload(self._tables, self._presence, table_id)
        await self._sio.emit(
            "monitor", payload, to=to, room=None if to else monitor_room(table_id), namespace=MONITOR
        )

    async def push_estimates(self, table_id: str) -> None:
        owner = self._tables.loaded(table_id)
        if owner is None or owner.settlement is not None:
            return
        sessions = self._presence.sessions(table_id)
        # One pass for the whole room (what every worker's estimate shares is computed once), all
        # of one state: an operation committed while these are sent marks the table for the next pulse.
        estimates = owner.estimator.estimates({session.worker_id for session in sessions})
        for session in sessions:
            estimate = dict(estimates[session.worker_id])
            if self._sent_estimates.get(session.sid) != estimate:
                self._sent_estimates[session.sid] = estimate
                await self._sio.emit("estimate", estimate, to=session.sid, namespace=WORKER)

    def forget(self, sid: str) -> None:
        self._sent_estimates.pop(sid, None)


def worker_snapshot(session: WorkerSession, owner: TableOwner) -> dict[str, Any]:
    """The ``snapshot`` event for ``session``: the table as its owner holds it (call under ``owner.lock``)."""
    spec = owner.spec
    table = owner.table
    my_votes = [
        {"kind": kind, "values": table.schema.ordered(values)}
        for worker, kind, values in table.vote_records()
        if worker == session.worker_id
    ]
    own_votes.add_row_ids(table, session.worker_id, my_votes)
    return {
        "table": {
            "id": owner.table_id,
            "name": spec.name,
            "instructions": spec.instructions,
            "schema": spec.schema_json(),
            "status": owner.status,
            "template": template_rows(spec.schema, spec.template),
        },
        "worker_id": session.worker_id,
        "rows": plain_rows(table),
        "my_votes": my_votes,
        "my_retracted": own_votes.retracted(table, session.worker_id),
        # Models' verdicts and suggestions (Annotate ops), so a joining page shows them too.
        "annotations": [operation_to_wire(annotation) for annotation in table.annotations()],
        "seq": owner.seq,
        # Kept beside the seq and sent back on reconnect with ``last_seq`` (``TableOwner.replays_for``).
        "incarnation": owner.incarnation,
        "estimate": owner.estimator.estimate(session.worker_id),
        "standing": standing_of(table, session.worker_id),
    }


async def monitor_payload(tables: Tables, presence: Presence, table_id: str) -> dict[str, Any]:
    record = await tables.record(table_id)
    owner = await tables.owner(table_id)
    online = presence.online(table_id)
    if owner is None:
        payload = monitor_json(record, None, online, set())
    else:
        async with owner.lock:
            payload = monitor_json(record, owner, online, set(owner.blocked))
            payload["reputation"] = tables.reputation_rows(owner)
    payload["model"] = tables.model_status(table_id)
    payload["workers"] = with_screening(payload["workers"], await Screenings(tables.store).outcomes(table_id))
    return payload


async def _established(
    sio: socketio.AsyncServer, presence: Presence, sid: str, namespace: str, timeout: float = 30
) -> bool:
    """Wait until the namespace connection is established (the CONNECT packet has been sent)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not sio.manager.is_connected(sid, namespace):
        if not presence.knows(sid) or asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.002)
    return True


class WorkerNamespace(socketio.AsyncNamespace):  # type: ignore[misc]  # socketio is untyped
    def __init__(self, app: SocketApp) -> None:
        super().__init__(WORKER)
        self._app = app
        self.in_flight = InFlight()

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect") or event in _OPERATIONS:
            return await super().trigger_event(event, *args)
        # Answer unknown events (when the client asked for an ack) instead of silently dropping them.
        return error_ack(Failure("unknown_event", f"unknown event {event!r}; events: {list(_OPERATIONS)}"))

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        app = self._app
        try:
            if not isinstance(auth, dict):
                raise Failure("token_invalid", "connect with auth {token: <session token>}")
            last_seq = _auth_seq(auth, "last_seq")
            incarnation = auth.get("incarnation")
            if incarnation is not None and (not isinstance(incarnation, str) or len(incarnation) > 64):
                raise Failure("malformed", "incarnation must be the string the snapshot gave")
            max_seq = _auth_seq(auth, "max_seq")
            # What the client holds reaches up to its highest seq (ops arrive out of order).
            held = None if last_seq is None else max(last_seq, max_seq or 0)
            claims = await app.roster.admit(auth.get("token"), auth.get("table_id"))
            app.guard.check_connect(claims.table_id, claims.worker_id)
            owner = await app.tables.owner(claims.table_id)
        except Failure as failure:
            raise refuse(failure) from failure
        if owner is None:
            raise refuse(Failure("table_not_live", "the table has not been launched yet"))
        try:
            await Screenings(app.tables.store).check_admission(owner.spec, claims.table_id, claims.worker_id)
        except Failure as failure:
            raise refuse(failure) from failure
        session = WorkerSession(sid, claims.table_id, claims.worker_id, claims.link_id)
        app.presence.add_worker(session)
        app.fanout.changed(owner)
        # The snapshot goes out once the namespace connection is established (events sent from
        # inside the connect handler would precede the CONNECT packet).
        app.spawn(self._join(session, owner, last_seq, (incarnation, held), auth.get("token")))

    async def _join(
        self,
        session: WorkerSession,
        owner: TableOwner,
        last_seq: int | None,
        held: tuple[str | None, int | None],
        token: object,
    ) -> None:
        """``held``: the client's incarnation and the highest seq it holds (None: a fresh client)."""
        incarnation, held_seq = held
        sio = self._app.sio
        if not await _established(sio, self._app.presence, session.sid, WORKER):
            return
        try:
            # Admission was checked before the session was registered: a revocation or a block in
            # between found no session to kick. Now that a kick would find it, check again.
            await self._app.roster.admit(token, owner.table_id)
        except Failure as failure:
            await sio.emit(
                "kicked", {"code": failure.code, "message": failure.message}, to=session.sid, namespace=WORKER
            )
            await sio.disconnect(session.sid, namespace=WORKER)
            return
        if last_seq is not None and incarnation != owner.incarnation:
            # Another run's client: whether it saw only logged ops depends on the runs after its own.
            await owner.learn_incarnations()
        # Old ops come from the store before the lock is taken; the lock only tops them up.
        stored = await owner.read_missed(last_seq) if last_seq is not None else None
        async with owner.lock:
            if self._app.presence.worker(session.sid) is None:
                return  # gone while we waited
            await sio.enter_room(session.sid, table_room(owner.table_id), namespace=WORKER)
            self._app.guard.joined(session.sid, owner.seq)
            missed = None
            if last_seq is not None and held_seq is not None and owner.replays_for(incarnation, held_seq):
                missed = owner.missed_since(last_seq, stored)
            if missed is not None and replay_reveals_gold(owner.table, missed):
                missed = None
            if missed is not None and last_seq is not None:
                ops = [{"seq": s, "op": op} for s, op in missed]
                replay = {"from_seq": last_seq, "ops": ops, "incarnation": owner.incarnation}
                await sio.emit("ops", replay, to=session.sid, namespace=WORKER)
            else:
                await sio.emit("snapshot", worker_snapshot(session, owner), to=session.sid, namespace=WORKER)
            estimate = owner.estimator.estimate(session.worker_id)
        await sio.emit("estimate", estimate, to=session.sid, namespace=WORKER)
        if owner.settlement is not None:
            # Joining a finished table: the worker learns the outcome and their pay at once.
            await self._app.fanout.completed_for(owner, [session])

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        table_id = self._app.presence.remove(sid)
        self._app.pulse.forget(sid)
        self._app.guard.forget(sid)
        if table_id is not None:
            owner = self._app.tables.loaded(table_id)
            if owner is not None:
                self._app.fanout.changed(owner)

    async def on_fill(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._operate(sid, "fill", args)

    async def on_upvote(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._operate(sid, "upvote", args)

    async def on_downvote(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._operate(sid, "downvote", args)

    async def on_retract(self, sid: str, *args: Any) -> dict[str, Any]:
        return await self._operate(sid, "retract", args)

    async def _operate(self, sid: str, kind: str, args: Sequence[Any]) -> dict[str, Any]:
        """The libraries' path (``handle_now`` is the lean one): the answer to the event."""
        try:
            owner, parsed, seen = self._admit(sid, kind, args)
        except _Dropped as dropped:
            await self._drop(sid, dropped.code, dropped.text)
            return error_ack(dropped.failure)
        except Failure as failure:
            return error_ack(failure)
        with self.in_flight.answering(sid):
            try:
                outcome = await owner.submit(parsed.op, origin=sid, seen_seq=seen)
            except Failure as failure:
                return error_ack(failure)
            return outcome_ack(outcome)

    def handle_now(self, sid: str, kind: str, args: list[Any], reply: Callable[[Any], None] | None) -> None:
        """``_operate`` without a coroutine (``GuardedServer.handle_now``, the lean receive path):
        the operation is checked and queued with its owner now, and ``reply`` gets the same
        answer when the owner resolves it (a callback, no task); refusals are answered at once."""
        answer = reply or _unanswered
        try:
            try:
                owner, parsed, seen = self._admit(sid, kind, args)
            except _Dropped as dropped:
                # The kicked event, then the answer, then the disconnect, as in ``_operate``.
                run_until_suspended(self._dropped(sid, dropped, answer))
                return
            except Failure as failure:
                answer(error_ack(failure))
                return
            future = owner.submit_now(parsed.op, origin=sid, seen_seq=seen)
            if future is None:  # the owner's loop does not run here (another process sequences)
                # In a task from its first step, as the libraries' path runs it: the forward's
                # clients (redis-py's asyncio.timeout) need one, and tasks start in the order made.
                _in_task(self._submitted(owner, parsed, seen, sid, answer))
            elif future.done():
                answer(_future_ack(future))
            else:
                future.add_done_callback(lambda done: answer(_future_ack(done)))
                self.in_flight.add(sid, future)  # settled after the answer above
        except Exception:  # answered, as every message is; the fault is logged
            logger.exception("a %s event from %s failed", kind, sid)
            answer(error_ack(Failure("internal_error", "the server failed on this operation; send it again")))

    async def _dropped(self, sid: str, dropped: _Dropped, answer: Callable[[Any], None]) -> None:
        await self._drop(sid, dropped.code, dropped.text)
        answer(error_ack(dropped.failure))

    async def _submitted(
        self, owner: TableOwner, parsed: Request, seen: int | None, sid: str, answer: Callable[[Any], None]
    ) -> None:
        with self.in_flight.answering(sid):
            try:
                outcome = await owner.submit(parsed.op, origin=sid, seen_seq=seen)
            except Failure as failure:
                answer(error_ack(failure))
                return
            except Exception:  # answered, as every message is; the fault is logged
                logger.exception("a %s event from %s failed", parsed.op.__class__.__name__, sid)
                answer(
                    error_ack(Failure("internal_error", "the server failed on this operation; send it again"))
                )
                return
            answer(outcome_ack(outcome))

    def _admit(self, sid: str, kind: str, args: Sequence[Any]) -> tuple[TableOwner, Request, int | None]:
        """The checks before an operation is queued: the session (the worker is always the one its
        signed session names), the rate limit, the payload. ``Failure`` refuses it; ``_Dropped``
        refuses it and ends the connection."""
        app = self._app
        session = app.presence.worker(sid)
        if session is None:
            raise Failure("token_invalid", "this connection has no worker session")
        owner = app.tables.loaded(session.table_id)
        if owner is None:
            raise Failure("table_not_live", "the table is not loaded")
        # Charged before anything else (even parsing), so a message over the limit costs the
        # server nothing beyond this answer; malformed ones are charged too.
        limit = self._rate_limit(owner)
        try:
            app.guard.admit(sid, session.table_id, session.worker_id, limit)
        except Failure as failure:
            if app.guard.ignoring(sid):
                app.guard.cool_down(session.table_id, session.worker_id, limit)
                raise _Dropped(
                    failure, "too_fast", "disconnected for sending while rate limited"
                ) from failure
            raise
        try:
            payload = single_payload(args, app.settings.max_event_bytes)
            parsed = request(kind, session.worker_id, payload)
        except Failure as failure:
            if app.guard.malformed(sid):
                limit_text = f"disconnected after {app.guard.malformed_limit} malformed messages"
                raise _Dropped(failure, "too_many_malformed", limit_text) from failure
            raise
        seen = parsed.seen_seq
        if seen is not None:
            # Everything up to the join's seq was sent on this connection before it could act.
            seen = max(seen, app.guard.seen_floor(sid))
        return owner, parsed, seen

    def _rate_limit(self, owner: TableOwner) -> RateLimit:
        settings = self._app.settings
        if owner.spec.rate_limit is not None:
            return owner.spec.rate_limit
        return RateLimit(settings.rate_limit_ops_per_second, settings.rate_limit_burst)

    async def _drop(self, sid: str, code: str, message: str) -> None:
        """Disconnect a connection that does not behave like a worker's page (after this answer)."""
        await self._app.sio.emit(
            "kicked",
            {"code": code, "message": f"{message}; fix the client and reconnect"},
            to=sid,
            namespace=WORKER,
        )
        # Spawned so that the answer to this message still goes out before the connection closes,
        # and the answers to its operations accepted before it (crowdfill.server.in_flight).
        self._app.spawn(self._disconnect_answered(sid))

    async def _disconnect_answered(self, sid: str) -> None:
        await self.in_flight.answered(sid, _ANSWERS_WAIT_SECONDS)
        await self._app.sio.disconnect(sid, namespace=WORKER)


class MonitorNamespace(socketio.AsyncNamespace):  # type: ignore[misc]  # socketio is untyped
    def __init__(self, app: SocketApp) -> None:
        super().__init__(MONITOR)
        self._app = app

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        app = self._app
        try:
            if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
                raise Failure("unauthorized", "connect with auth {token: <requester token>, table_id}")
            if not hmac.compare_digest(auth["token"].encode(), app.settings.requester_token.encode()):
                raise Failure("unauthorized", "the requester token is not valid")
            table_id = auth.get("table_id")
            if not isinstance(table_id, str):
                raise Failure("malformed", "auth.table_id must be the table's id")
            await app.tables.record(table_id)
        except Failure as failure:
            raise refuse(failure) from failure
        app.presence.add_monitor(sid, table_id)
        app.spawn(self._join(sid, table_id))

    async def _join(self, sid: str, table_id: str) -> None:
        sio = self._app.sio
        if not await _established(sio, self._app.presence, sid, MONITOR):
            return
        await sio.enter_room(sid, monitor_room(table_id), namespace=MONITOR)
        await self._app.pulse.push_monitor(table_id, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._app.presence.remove(sid)


def _auth_seq(auth: dict[str, Any], name: str) -> int | None:
    """The optional seq ``name`` of a worker's connect ``auth``: None or a non-negative whole number."""
    value = auth.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise Failure("malformed", f"{name} must be a non-negative whole number")
    return value


def _freeze_startup_heap() -> None:
    """Collect the young generations, then hide everything alive from the cyclic collector (once
    per process).

    What is alive when the server starts (modules, FastAPI and pydantic machinery, recovered
    tables) stays alive; without this every full collection walks it again, a pause of tens of
    milliseconds in the middle of live traffic (about 50 ms at 90 MB), against a few with it.
    """
    if gc.get_freeze_count() == 0:
        # The young generations only: the server collected in full before it recovered its tables
        # (``App._lifespan``), and a restored table's objects are already in the oldest generation
        # (``crowdfill.server.heap.promote_to_oldest``): walking them again was a second of a
        # million-operation table's restart, to find nothing.
        gc.collect(1)
        gc.freeze()


class SocketApp:
    """The Socket.IO half of the server: namespaces, presence, fan-out and the pulse task."""

    def __init__(self, settings: Settings, tables_factory: Any = None, client_manager: Any = None) -> None:
        self.settings = settings
        self.sio = GuardedServer(
            # A worker's operations skip the libraries' task per message (crowdfill.server.socket_reader).
            lean_receive=settings.lean_receive,
            async_mode="asgi",
            # Several processes: a Redis manager, so emits to rooms and sids reach every process's clients.
            client_manager=client_manager,
            # Engine.IO drops a connection whose message exceeds this; individual events are
            # limited more tightly (max_event_bytes) and answered with payload_too_large.
            max_http_buffer_size=max(settings.max_payload_bytes, settings.max_event_bytes * 4),
            logger=False,
            engineio_logger=False,
        )
        self.sio.eio.writer = settings.socket_writer
        self.presence = Presence()
        self.guard = EdgeGuard(settings.malformed_limit, settings.rate_limit_refusals)
        self.fanout = Fanout(self.sio, self.presence)
        self._tasks: set[asyncio.Task[None]] = set()
        # Several processes (crowdfill.server.cluster_node): kicks reach the other processes' sessions too.
        self.peers: Any = None
        self.tables: Tables
        self.roster: Roster
        self.pulse: Pulse

    def bind(self, tables: Tables, roster: Roster) -> None:
        self.tables = tables
        self.roster = roster
        self.pulse = Pulse(self.sio, self.fanout, self.presence, tables, self.settings)
        worker = WorkerNamespace(self)
        self.sio.register_namespace(worker)
        self.sio.handle_now(WORKER, worker.handle_now)
        self.sio.register_namespace(MonitorNamespace(self))

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        # Keep a reference until done: the loop holds tasks only weakly.
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task failed", exc_info=task.exception())

    def start(self) -> None:
        _freeze_startup_heap()
        self.spawn(self.pulse.run())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            # Cancelled on purpose: a CancelledError is the normal way these tasks end.
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def kick(
        self, table_id: str, worker_id: str, code: str, message: str, keep_link: str | None = None
    ) -> int:
        """Disconnect a worker's live sessions (revoked link, block), telling them why first.

        ``keep_link``: sessions opened with this link id stay (a replaced link kicks only the old).
        """
        kicked = await self.kick_here(table_id, worker_id, code, message, keep_link)
        if self.peers is not None:
            await self.peers.kicked(table_id, worker_id, code, message, keep_link)
        return kicked

    async def kick_here(
        self, table_id: str, worker_id: str, code: str, message: str, keep_link: str | None = None
    ) -> int:
        """``kick`` for the sessions connected to this process only."""
        sessions = [s for s in self.presence.matching(table_id, worker_id) if s.link_id != keep_link]
        for session in sessions:
            await self.sio.emit(
                "kicked", {"code": code, "message": message}, to=session.sid, namespace=WORKER
            )
            await self.sio.disconnect(session.sid, namespace=WORKER)
        return len(sessions)
