"""The simulated browsers of the socket mode: one Socket.IO client per simulated worker.

Each keeps a replica of the candidate table (the snapshot's rows and the worker's own votes, then
every op it sees: its acknowledgements and the others' forwarded ops), decides with the same
``Behaviour`` as the in-process mode, thinks (simulated seconds times ``time_scale`` of real time)
and emits ``fill`` / ``upvote`` / ``downvote`` on the ``/worker`` namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import socketio

from crowdfill.model import CandidateTable, Downvote, Fill, Insert, Scoring, Template, Upvote
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.model.values import values_from_mapping
from crowdfill.simulation.adversaries import behaviours
from crowdfill.simulation.behaviour import Action, Behaviour
from crowdfill.simulation.crowd import WorkerProfile
from crowdfill.simulation.engine import Attempt, EndReason, Limits
from crowdfill.simulation.rest import SocketModeError, SocketSettings
from crowdfill.simulation.streams import stream
from crowdfill.simulation.truth import Truth


class BrowserCrowd:
    def __init__(
        self,
        truth: Truth,
        template: Template,
        scoring: Scoring,
        crowd: tuple[WorkerProfile, ...],
        seed: int,
        settings: SocketSettings,
        limits: Limits,
        tokens: dict[str, str],
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.template_size = len(template)
        self.attempts: list[Attempt] = []
        self.started = time.monotonic()
        self.end: EndReason | None = None
        self.done = asyncio.Event()
        self.browsers = [
            Browser(
                self,
                profile,
                behaviour,
                stream(seed, f"clock:{profile.worker}"),
                tokens[profile.worker],
                truth,
                scoring,
                template,
            )
            for profile, behaviour in zip(crowd, behaviours(crowd, truth, seed), strict=True)
        ]

    def sim_now(self) -> float:
        return (time.monotonic() - self.started) / self.settings.time_scale

    def finish(self, end: EndReason) -> None:
        if self.end is None:
            self.end = end
        self.done.set()

    async def connect(self) -> None:
        await asyncio.gather(*(browser.connect() for browser in self.browsers))
        self.started = time.monotonic()

    async def collect(self) -> EndReason:
        workers = [asyncio.create_task(browser.work()) for browser in self.browsers]
        try:
            await asyncio.wait_for(self.done.wait(), self.settings.timeout)
        except TimeoutError:
            self.finish("time limit")
        # Workers stop at their next look; an action already sent gets its acknowledgement first.
        await asyncio.gather(*workers)
        assert self.end is not None
        return self.end

    async def disconnect(self) -> None:
        await asyncio.gather(*(browser.disconnect() for browser in self.browsers))

    def check_stalled(self) -> None:
        """Stalled: every worker's last look found nothing to do, and nothing has happened since."""
        seqs = {browser.seq for browser in self.browsers}
        if len(seqs) == 1 and all(browser.idle_at == browser.seq for browser in self.browsers):
            self.finish("stalled")

    def record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if len(self.attempts) >= self.limits.max_steps:
            self.finish("step limit")
        if attempt.at > self.limits.max_seconds:
            self.finish("time limit")


class Browser:
    """One simulated worker's browser: a Socket.IO client with a replica of the candidate table."""

    def __init__(
        self,
        crowd: BrowserCrowd,
        profile: WorkerProfile,
        behaviour: Behaviour,
        clock: random.Random,
        token: str,
        truth: Truth,
        scoring: Scoring,
        template: Template,
    ) -> None:
        self.crowd = crowd
        self.profile = profile
        self.behaviour = behaviour
        self.clock = clock
        self.token = token
        self._blank = (truth.schema, scoring, template)
        self.replica = CandidateTable(*self._blank)
        self.seq = 0
        # The seq below which every op has been seen (acks and forwards may arrive out of order).
        self.seen_seq = 0
        self._ahead: set[int] = set()
        self.idle_at: int | None = None
        self.joined = asyncio.Event()
        self.counter = 0
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("snapshot", self._on_snapshot, namespace="/worker")
        self.sio.on("op", self._on_op, namespace="/worker")
        self.sio.on("ops", self._on_ops, namespace="/worker")
        self.sio.on("complete", self._on_complete, namespace="/worker")

    async def connect(self) -> None:
        timeout = self.crowd.settings.connect_timeout
        try:
            await self.sio.connect(
                self.crowd.settings.server,
                namespaces=["/worker"],
                auth={"token": self.token},
                transports=["websocket"],
                wait_timeout=int(timeout),
            )
            await asyncio.wait_for(self.joined.wait(), timeout)
        except (socketio.exceptions.ConnectionError, TimeoutError) as error:
            raise SocketModeError(f"worker {self.profile.worker} could not join: {error}") from error

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    def _new_row_id(self) -> str:
        self.counter += 1
        return f"{self.profile.worker}-{self.counter}"

    async def work(self) -> None:
        await self._think(self.clock.uniform(0.0, self.profile.think))
        while not self.crowd.done.is_set():
            action = self.behaviour.decide(self.replica, self._new_row_id)
            self.idle_at = self.seq if action is None else None
            if action is None:
                self.crowd.check_stalled()
            await self._think(max(1.0, self.clock.expovariate(1.0 / self.profile.think)))
            if action is not None and not self.crowd.done.is_set():
                await self._submit(action)

    async def _think(self, sim_seconds: float) -> None:
        """Wait ``sim_seconds`` of simulated time, or less when the collection ends meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.crowd.done.wait(), sim_seconds * self.crowd.settings.time_scale)

    async def _submit(self, action: Action) -> None:
        op = action.operation
        stale = op.row_id not in self.replica
        # Every operation carries the last seq this replica has seen: a fill of a row it saw
        # replaced is refused (row_replaced), one it had not seen replaced duplicates the row.
        payload: dict[str, Any] = {"row_id": op.row_id, "seen_seq": self.seen_seq}
        if isinstance(op, Fill):
            payload.update(new_row_id=op.new_row_id, column=op.column, value=op.value)
        try:
            ack = await self.sio.call(action.kind, payload, namespace="/worker", timeout=30)
        except socketio.exceptions.TimeoutError:
            ack = {"ok": False, "error": {"code": "timeout"}}
        accepted = bool(isinstance(ack, dict) and ack.get("ok"))
        seq: int | None = None
        error: str | None = None
        if accepted:
            seq = int(ack["seq"])
            self._apply(seq, ack["op"])
        else:
            problem = ack.get("error", {}) if isinstance(ack, dict) else {}
            error = str(problem.get("code", "unknown"))
        self.crowd.record(
            Attempt(
                self.crowd.sim_now(),
                self.profile.worker,
                action.kind,
                action.correct,
                accepted,
                error,
                stale,
                seq,
            )
        )

    def _apply(self, seq: int, wire: object) -> None:
        self.replica.integrate(sequenced_from_wire(wire))
        self.seq = max(self.seq, seq)
        if seq > self.seen_seq:
            self._ahead.add(seq)
            while self.seen_seq + 1 in self._ahead:
                self.seen_seq += 1
                self._ahead.discard(self.seen_seq)

    async def _on_snapshot(self, data: dict[str, Any]) -> None:
        worker = str(data["worker_id"])
        # A snapshot replaces the replica (a second one resets it after the server lost a batch).
        self.replica = CandidateTable(*self._blank)
        for row in data["rows"]:
            self.replica.integrate(Insert(str(row["row_id"]), values_from_mapping(row["values"])))
        for vote in data.get("my_votes", []):
            values = values_from_mapping(vote["values"])
            if vote["kind"] == "up":
                self.replica.integrate(Upvote(worker, "snapshot", values))
            else:
                self.replica.integrate(Downvote(worker, "snapshot", values))
        self.seq = int(data["seq"])
        self.seen_seq = self.seq
        self._ahead = set()  # ops past its seq included (a lost batch's, after a reset)
        self.joined.set()

    async def _on_op(self, data: dict[str, Any]) -> None:
        self._apply(int(data["seq"]), data["op"])

    async def _on_ops(self, data: dict[str, Any]) -> None:
        for entry in data["ops"]:
            self._apply(int(entry["seq"]), entry["op"])
        if "from_seq" in data:  # a replay after a reconnect (a live batch has no from_seq)
            self.joined.set()

    async def _on_complete(self, data: dict[str, Any]) -> None:
        self.crowd.finish("satisfied" if data.get("status") == "complete" else "stalled")
