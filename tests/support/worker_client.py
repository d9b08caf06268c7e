"""A scripted worker: a real ``socketio.AsyncClient`` that keeps a replica of the candidate table.

The replica is the model's own ``CandidateTable`` fed with the snapshot's rows and every op the
client sees (acks, forwarded ops one by one or in live ``ops`` batches, replays), as a browser
page would. ``last_seq`` is the largest
seq below which every op has been seen (acks and forwarded ops may arrive out of order); every
operation ``emit`` sends carries it as ``seen_seq`` unless the payload names its own. The
snapshot's (or a replay's) ``incarnation`` is kept beside it and sent with it on reconnect.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from crowdfill.model import CandidateTable, Column, Insert, Schema
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.model.values import Values, values_from_mapping

OPERATIONS = ("fill", "upvote", "downvote")


def schema_from_json(data: dict[str, Any]) -> Schema:
    columns = tuple(
        Column(c["name"], c.get("type", "text"), tuple(c["domain"]) if c.get("domain") is not None else None)
        for c in data["columns"]
    )
    return Schema(columns, tuple(data.get("key") or ()))


class WorkerClient:
    def __init__(self, base_url: str, token: str, transports: list[str] | None = None) -> None:
        self.base_url = base_url
        self.token = token
        # WebSocket only unless told (["polling"]: long-polling; ["polling", "websocket"]: upgrade).
        self.transports = transports or ["websocket"]
        self.sio = socketio.AsyncClient(reconnection=False)
        self.table: CandidateTable | None = None
        self.worker_id: str | None = None
        self.status: str | None = None
        self.snapshots: list[dict[str, Any]] = []
        self.replays: list[dict[str, Any]] = []
        self.forwarded: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []  # live ``ops`` frames (their entries are in forwarded)
        self.estimates: list[dict[str, Any]] = []
        self.complete: dict[str, Any] | None = None
        self.kicked: dict[str, Any] | None = None
        self.standings: list[dict[str, Any]] = []
        self.seen: set[int] = set()
        self.incarnation: str | None = None
        self._base_seq = 0
        self._joined = asyncio.Event()
        self._changed = asyncio.Event()
        self.sio.on("snapshot", self._on_snapshot, namespace="/worker")
        self.sio.on("ops", self._on_ops, namespace="/worker")
        self.sio.on("op", self._on_op, namespace="/worker")
        self.sio.on("estimate", self._on_estimate, namespace="/worker")
        self.sio.on("complete", self._on_complete, namespace="/worker")
        self.sio.on("kicked", self._on_kicked, namespace="/worker")
        self.sio.on("standing", self._on_standing, namespace="/worker")

    # ------------------------------------------------------------------ connection
    async def connect(
        self, last_seq: int | None = None, timeout: float = 10, incarnation: str | None = None
    ) -> None:
        auth: dict[str, Any] = {"token": self.token}
        if last_seq is not None:
            auth["last_seq"] = last_seq
        if incarnation is not None:
            auth["incarnation"] = incarnation
            auth["max_seq"] = self.max_seq
        self._joined.clear()
        await self.sio.connect(
            self.base_url, namespaces=["/worker"], auth=auth, transports=self.transports, wait_timeout=timeout
        )
        await asyncio.wait_for(self._joined.wait(), timeout)

    async def reconnect(self, timeout: float = 10) -> None:
        """A fresh connection that asks for what was missed since ``last_seq``."""
        old = self.sio
        await self.abandon()
        self.sio = socketio.AsyncClient(reconnection=False)
        for event, handler in old.handlers.get("/worker", {}).items():
            self.sio.on(event, handler, namespace="/worker")
        await self.connect(self.last_seq, timeout, self.incarnation)

    async def abandon(self) -> None:
        """Drop the connection without the closing handshake (fast when the server is gone)."""
        await self.sio.eio.disconnect(abort=True)

    async def disconnect(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    @property
    def last_seq(self) -> int:
        seq = self._base_seq
        while seq + 1 in self.seen:
            seq += 1
        return seq

    @property
    def max_seq(self) -> int:
        return max([self._base_seq, *self.seen])

    # ------------------------------------------------------------------ actions
    async def emit(self, event: str, payload: Any, timeout: float = 10) -> dict[str, Any]:
        if event in OPERATIONS and isinstance(payload, dict) and "seen_seq" not in payload:
            payload = {**payload, "seen_seq": self.last_seq}
        ack: dict[str, Any] = await self.sio.call(event, payload, namespace="/worker", timeout=timeout)
        if ack.get("ok"):
            self._apply(ack["seq"], ack["op"])
        return ack

    async def fill(
        self,
        row_id: str,
        column: str,
        value: Any,
        new_row_id: str | None = None,
        timeout: float = 10,
        seen_seq: int | None = None,
    ) -> dict[str, Any]:
        """Fill a cell; ``seen_seq`` defaults to ``last_seq`` (give an older one to act as a lagging page)."""
        payload: dict[str, Any] = {"row_id": row_id, "column": column, "value": value}
        if new_row_id is not None:
            payload["new_row_id"] = new_row_id
        if seen_seq is not None:
            payload["seen_seq"] = seen_seq
        return await self.emit("fill", payload, timeout)

    async def upvote(self, row_id: str) -> dict[str, Any]:
        return await self.emit("upvote", {"row_id": row_id})

    async def downvote(self, row_id: str) -> dict[str, Any]:
        return await self.emit("downvote", {"row_id": row_id})

    async def retract(self, row_id: str) -> dict[str, Any]:
        return await self.emit("retract", {"row_id": row_id})

    # ------------------------------------------------------------------ replica
    def rows(self) -> dict[str, Values]:
        assert self.table is not None, "not joined"
        return {row.row_id: row.values for row in self.table.rows()}

    async def wait_for_seq(self, seq: int, timeout: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.last_seq < seq:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"worker {self.worker_id} saw up to seq {self.last_seq}, not {seq}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for(self, predicate: Any, timeout: float = 10) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("condition not reached")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
            except TimeoutError:
                continue

    async def next_change(self, timeout: float = 10) -> None:
        """Wait for the next thing this client hears: an op, a snapshot, an estimate, completion or a kick.

        Only what arrives after the call counts, so call it straight after reading the state that
        should change (with no ``await`` in between), or a change in that gap would be slept through.
        """
        self._changed.clear()
        await asyncio.wait_for(self._changed.wait(), timeout)

    def _apply(self, seq: int, op: dict[str, Any]) -> None:
        assert self.table is not None, "not joined"
        if seq <= self._base_seq or seq in self.seen:
            return  # already applied: an op can reach a client twice (an ack and a resync)
        self.table.integrate(sequenced_from_wire(op))
        self.seen.add(seq)
        self._changed.set()

    async def _on_snapshot(self, data: dict[str, Any]) -> None:
        self.snapshots.append(data)
        table = CandidateTable(schema_from_json(data["table"]["schema"]))
        for row in data["rows"]:
            table.integrate(Insert(row["row_id"], values_from_mapping(row["values"])))
        self.table = table
        self.worker_id = data["worker_id"]
        self.status = data["table"]["status"]
        self._base_seq = data["seq"]
        # Everything the replica held is replaced, including ops past the snapshot's seq that a
        # lost batch had (a reset after a failed append, or a restart that lost them).
        self.seen = set()
        self.incarnation = data.get("incarnation")
        self._joined.set()
        self._changed.set()

    async def _on_ops(self, data: dict[str, Any]) -> None:
        if "from_seq" not in data:
            # A live batch (several forwards in one frame): each entry is a forwarded op.
            self.batches.append(data)
            for entry in data["ops"]:
                await self._on_op(entry)
            return
        self.replays.append(data)
        self.incarnation = data.get("incarnation", self.incarnation)
        for entry in data["ops"]:
            self._apply(entry["seq"], entry["op"])
        self._joined.set()

    async def _on_op(self, data: dict[str, Any]) -> None:
        self.forwarded.append(data)
        if self.table is not None:
            self._apply(data["seq"], data["op"])

    async def _on_estimate(self, data: dict[str, Any]) -> None:
        self.estimates.append(data)
        self._changed.set()

    async def _on_complete(self, data: dict[str, Any]) -> None:
        self.complete = data
        self.status = data["status"]
        self._changed.set()

    async def _on_standing(self, data: dict[str, Any]) -> None:
        self.standings.append(data)
        self._changed.set()

    async def _on_kicked(self, data: dict[str, Any]) -> None:
        self.kicked = data
        self._changed.set()


async def refusal(base_url: str, auth: Any, namespace: str = "/worker") -> dict[str, Any]:
    """Connect a client the server must refuse (to ``namespace``) and return the refusal's {code, message}."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []

    async def on_error(data: Any) -> None:
        errors.append(data)

    client.on("connect_error", on_error, namespace=namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            base_url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5
        )
    await client.disconnect()
    assert errors, "no connect_error received"
    data: dict[str, Any] = errors[0]["data"] if "data" in errors[0] else errors[0]
    assert data["message"]
    return data


async def first_answer(base_url: str, auth: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Join with ``auth`` and return the first table event the server sends: snapshot or ops."""
    client = socketio.AsyncClient(reconnection=False)
    answers: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def on_snapshot(data: dict[str, Any]) -> None:
        answers.put_nowait(("snapshot", data))

    async def on_ops(data: dict[str, Any]) -> None:
        answers.put_nowait(("ops", data))

    client.on("snapshot", on_snapshot, namespace="/worker")
    client.on("ops", on_ops, namespace="/worker")
    await client.connect(
        base_url, namespaces=["/worker"], auth=auth, transports=["websocket"], wait_timeout=5
    )
    try:
        return await asyncio.wait_for(answers.get(), 5)
    finally:
        await client.disconnect()
