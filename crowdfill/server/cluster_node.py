"""This process as one of several on a store and a Redis (``--redis-url``; docs/deploy.md).

Every process loads the live tables it is asked about. For each, ``Ownership`` says whether this
process leads it (holds its lease: its ``TableOwner`` sequences and appends at the lease's epoch)
or follows it. A follower's owner:

- applies the batches the leader broadcasts after each append (or rebuilds from the store on a
  gap), and forwards them to this process's clients, so joins, reads and the monitor work here;
- sends its clients' operations (and a requester's close) to the leader over the bus and hands the
  leader's exact answer back. A request to a leader that is gone is retried against whoever leads
  next until ``forward_timeout_seconds``; one the leader received but did not answer in time is
  reported as ``store_unavailable`` (never acknowledged: the submitter resubmits).

When the leader's lease expires (it died, or stopped renewing), a follower takes it over with a
higher epoch, rebuilds the table from the store and leads; the store refuses the old epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any

import socketio

from crowdfill.cluster import Bus, BusError, Ownership, Unreachable
from crowdfill.model import CrowdFillError, Sequenced
from crowdfill.model.codec import sequenced_from_wire, sequenced_to_wire
from crowdfill.server.failures import Failure
from crowdfill.server.owner import LIVE, Outcome, OwnerListener, Published, TableOwner
from crowdfill.server.preflight import StartupError
from crowdfill.server.settings import Settings
from crowdfill.server.sockets import SocketApp
from crowdfill.server.tables import BLOCK_KIND, Tables
from crowdfill.server.turns import Turns
from crowdfill.server.withheld import Withheld
from crowdfill.store.port import Store

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
RETRY_S = 0.1
PRESENCE_EVERY_S = 1.0  # well under presence.REMOTE_TTL_S: a live process's report never lapses


class ClusterNode:
    def __init__(self, settings: Settings, bus: Bus, ownership: Ownership, sockets: SocketApp) -> None:
        self.settings = settings
        self.node = ownership.node
        self.bus = bus
        self.ownership = ownership
        self.sockets = sockets
        self.fanout = sockets.fanout
        # This process's clients' operations held back from them until their ack (issue 18).
        self.withheld = Withheld()
        sockets.peers = self
        self.tables: Tables
        bus.on_request = self._on_request
        bus.on_broadcast = self._on_broadcast
        self._presence_task: asyncio.Task[None] | None = None

    def listener(self, inner: OwnerListener) -> OwnerListener:
        """``inner`` (the webhooks, models and sockets of this process) plus the broadcast to the others."""
        return _Announcing(inner, self)

    async def check(self) -> None:
        """StartupError unless Redis answers (before serving: one clear line for the operator)."""
        try:
            await self.bus.check()
        except BusError as error:
            raise StartupError(f"--redis-url: {error}") from error

    async def start(self, tables: Tables) -> None:
        self.tables = tables
        await self.bus.start()
        self.ownership.start()
        self._presence_task = asyncio.create_task(self._report_presence(), name=f"presence:{self.node}")

    async def stop(self) -> None:
        task = self._presence_task
        if task is not None:
            task.cancel()
            # Cancelled on purpose: that is how the reporter ends.
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.ownership.stop()
        await self.bus.stop()

    async def _report_presence(self) -> None:
        """Tell the others who is connected here, per table (the monitor counts every process's)."""
        presence = self.sockets.presence
        reported: set[str] = set()
        while True:
            await asyncio.sleep(PRESENCE_EVERY_S)
            tables = set(presence.tables_online())
            # A table whose last session left is reported once more, empty, so the others drop it.
            for table_id in sorted(tables | reported):
                counts = presence.local_online(table_id)
                try:
                    await self.bus.broadcast({"table": table_id, "presence": counts, "node": self.node})
                except Unreachable as error:
                    logger.warning("reporting presence failed: %s", error)
            reported = tables

    # ------------------------------------------------------------------ tables
    async def attach(self, owner: TableOwner) -> None:
        """Before a live table's owner loads: lead it if its lease is free, else follow."""
        if owner.status != LIVE:
            return
        owner.remote = _Remote(self, owner.table_id)
        epoch = await self.ownership.claim(owner.table_id, _Member(self, owner))
        owner.leading = epoch is not None
        owner.epoch = epoch

    async def detach(self, table_id: str) -> None:
        """The table was unloaded here: free its lease (another process may lead it at once)."""
        await self.ownership.release(table_id)

    async def _lead(self, owner: TableOwner, epoch: int) -> None:
        learned = await owner.lead(epoch)
        if learned:
            # The former leader's last batches may never have been broadcast: tell everyone.
            await self.fanout.published(owner, learned)
            await self._announce(owner, learned)
        self.fanout.changed(owner)

    # ------------------------------------------------------------------ broadcasts
    async def _announce(
        self, owner: TableOwner, entries: Sequence[Published], status: str | None = None
    ) -> None:
        message: JSON = {
            "table": owner.table_id,
            "node": self.node,
            "epoch": owner.epoch,
            "entries": [[e.seq, e.op, e.origin, e.worker] for e in entries],
            # The leader's run: followers hand it to their clients (crowdfill.server.owner).
            "incarnation": list(owner.incarnation_key),
        }
        if status is not None:
            message["status"] = status
        try:
            await self.bus.broadcast(message)
        except Unreachable as error:
            # The followers then catch up from the store at their next gap.
            logger.warning("table %s: broadcasting a batch failed: %s", owner.table_id, error)

    async def kicked(
        self, table_id: str, worker_id: str, code: str, message: str, keep_link: str | None
    ) -> None:
        """A kick (revoked link, block) made here: the other processes kick their sessions too."""
        try:
            await self.bus.broadcast({"table": table_id, "kick": [worker_id, code, message, keep_link]})
        except Unreachable as error:
            logger.warning("table %s: telling the other servers of a kick failed: %s", table_id, error)

    async def _on_kick(self, table_id: str, kick: list[Any]) -> None:
        worker_id, code, text, keep_link = kick
        owner = self.tables.loaded(table_id)
        if owner is not None:
            # A block is stored before the kick: the owner's copy of the block list follows the store.
            owner.blocked = {key for key, _ in await self.tables.store.list_items(table_id, BLOCK_KIND)}
        await self.sockets.kick_here(table_id, str(worker_id), str(code), str(text), keep_link)

    async def _on_broadcast(self, message: JSON) -> None:
        table_id = str(message.get("table"))
        if "kick" in message:
            await self._on_kick(table_id, message["kick"])
            return
        if "presence" in message:
            counts = {str(worker): int(n) for worker, n in dict(message["presence"]).items()}
            self.sockets.presence.note_remote(table_id, str(message.get("node")), counts)
            known = self.tables.loaded(table_id)
            if known is not None:
                self.fanout.changed(known)  # the monitor shows who is online
            return
        owner = self.tables.loaded(table_id)
        if owner is None:
            return
        epoch = message.get("epoch")
        if owner.leading:
            if isinstance(epoch, int) and owner.epoch is not None and epoch > owner.epoch:
                owner.resign()  # someone leads at a newer epoch: this process lost its lease
            else:
                return
        entries = [Published(int(s), op, origin, str(worker)) for s, op, origin, worker in message["entries"]]
        run = message.get("incarnation")
        if isinstance(run, list) and len(run) == 3:
            owner.adopt_incarnation(str(run[0]), int(run[1]), int(run[2]))
        status = message.get("status")
        applied = await owner.follow(entries, status if isinstance(status, str) else None)
        if applied:
            await self.fanout.published(owner, self.withheld.addressed(applied))
        if status is not None and status != LIVE:
            await self.fanout.completed(owner)
            await self.ownership.release(owner.table_id)
        self.fanout.changed(owner)

    # ------------------------------------------------------------------ requests (as the leader)
    async def _on_request(self, body: JSON) -> JSON:
        owner = self.tables.loaded(str(body.get("table")))
        if owner is None or not owner.leading or not self.ownership.leads(owner.table_id):
            return {"not_leading": True}
        try:
            if body.get("kind") == "close":
                await owner.close()
                return {"ok": True}
            op = sequenced_from_wire(body["op"])
        except (Failure, CrowdFillError) as error:
            return {"failure": _failure_json(error)}
        seen = body.get("seen_seq")
        outcome = await owner.submit(op, body.get("origin"), seen if isinstance(seen, int) else None)
        if outcome.failure is not None:
            return {"failure": _failure_json(outcome.failure)}
        assert outcome.published is not None  # an Outcome holds one of the two
        entry = outcome.published
        return {"published": [entry.seq, entry.op, entry.origin, entry.worker]}

    # ------------------------------------------------------------------ requests (as a follower)
    async def forward(self, table_id: str, body: JSON) -> JSON:
        """``body`` answered by the table's leader, whoever that is by then; a failure reply on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.forward_timeout_seconds
        body = {**body, "table": table_id}
        holder = self.ownership.holder(table_id)
        while True:
            owner = self.tables.loaded(table_id)
            if owner is not None and owner.leading:
                return await self._on_request(body)  # this process took the table over meanwhile
            remaining = deadline - loop.time()
            if remaining <= 0:
                failure = Failure(
                    "store_unavailable", "no server sequences this table right now (a takeover?); retry"
                )
                return {"failure": _failure_json(failure)}
            if holder is not None and holder != self.node:
                try:
                    reply = await self.bus.request(holder, body, remaining)
                except Unreachable:
                    reply = {"not_leading": True}  # it is gone: certainly not acted on, so retry
                except BusError as error:
                    failure = Failure(
                        "store_unavailable",
                        f"the table's server did not answer ({error}); the operation may or may not "
                        "have been accepted: check the log, or retry",
                    )
                    return {"failure": _failure_json(failure)}
                if not reply.get("not_leading"):
                    return reply
            await asyncio.sleep(RETRY_S)
            holder = await self.ownership.refresh(table_id)


class _Member:
    """A table's owner as ``Ownership`` sees it."""

    def __init__(self, node: ClusterNode, owner: TableOwner) -> None:
        self._node = node
        self._owner = owner

    async def lead(self, epoch: int) -> None:
        await self._node._lead(self._owner, epoch)

    def resign(self) -> None:
        self._owner.resign()


class _Remote:
    """A follower's writes, sent to the leader (``TableOwner.remote``)."""

    def __init__(self, node: ClusterNode, table_id: str) -> None:
        self._node = node
        self._table_id = table_id
        self._turns = Turns()

    async def submit(self, op: Sequenced, origin: str | None, seen_seq: int | None) -> Outcome:
        if origin is None:
            return await self._submit(op, origin, seen_seq)
        async with self._turns.turn(origin):  # one connection's operations in order (crowdfill.server.turns)
            return await self._submit(op, origin, seen_seq)

    async def _submit(self, op: Sequenced, origin: str | None, seen_seq: int | None) -> Outcome:
        body = {"kind": "submit", "op": sequenced_to_wire(op), "origin": origin, "seen_seq": seen_seq}
        withheld = self._node.withheld
        withheld.begin(origin)
        reply: JSON = {}
        try:
            reply = await self._node.forward(self._table_id, body)
        finally:
            published = reply.get("published")
            missed = withheld.end(origin, int(published[0]) if published else None)
        if missed and origin is not None:
            # Its own operations the sequencer published but never acknowledged to it.
            await self._node.fanout.published_to(origin, missed)
        if "published" in reply:
            seq, wire, sender, worker = reply["published"]
            return Outcome(published=Published(int(seq), wire, sender, str(worker)))
        return Outcome(failure=_failure_from(reply))

    async def close(self) -> None:
        reply = await self._node.forward(self._table_id, {"kind": "close"})
        if not reply.get("ok"):
            raise _failure_from(reply)


class _Announcing:
    """The leader's listener: this process's own, then a broadcast of the batch to the others.

    ``published`` comes after the append, so the other processes (and their clients) only ever get
    durable batches, with or without early forwarding (which reaches this process's clients only).
    """

    def __init__(self, inner: OwnerListener, node: ClusterNode) -> None:
        self._inner = inner
        self._node = node

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        await self._inner.published(owner, entries)
        if owner.leading:
            await self._node._announce(owner, entries)

    async def completed(self, owner: TableOwner) -> None:
        await self._inner.completed(owner)
        if owner.leading:
            await self._node._announce(owner, [], status=owner.status)
            await self._node.ownership.release(owner.table_id)

    def changed(self, owner: TableOwner) -> None:
        self._inner.changed(owner)


def _failure_json(error: Failure | CrowdFillError) -> JSON:
    details = error.details if isinstance(error, Failure) else {}
    return {"code": error.code, "message": error.message, "details": details}


def _failure_from(reply: JSON) -> Failure:
    failure = reply.get("failure") or {}
    return Failure(
        str(failure.get("code", "internal_error")),
        str(failure.get("message", "the table's server gave no answer")),
        failure.get("details") or {},
    )


def new_node_id() -> str:
    """A name for this process in leases and on the bus: unique across machines and restarts."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def cluster_for(settings: Settings, store: Store, sockets: SocketApp) -> ClusterNode | None:
    """The node of a several-process deployment (with ``redis_url``), None for the only process."""
    if not settings.redis_url:
        return None
    node = settings.node_id or new_node_id()
    ownership = Ownership(store, node, ttl=settings.lease_ttl_seconds)
    return ClusterNode(settings, Bus(settings.redis_url, node), ownership, sockets)


class _LocalFirstManager(socketio.AsyncRedisManager):  # type: ignore[misc]  # socketio is untyped
    """The Redis manager, minus the round trip for an emit to one connection of this process.

    Most emits go to one connection (a snapshot, an estimate, an ack): published, every other
    process would decode each one only to find it is not theirs.
    """

    async def emit(
        self, event: str, data: Any, namespace: str | None = None, room: str | None = None, **kwargs: Any
    ) -> Any:
        target = kwargs.pop("to", None) or room
        local = (
            target is not None
            and kwargs.get("callback") is None
            and self.is_connected(target, namespace or "/")
        )
        if local:
            kwargs["ignore_queue"] = True  # sent here only: no other process has this connection
        return await super().emit(event, data, namespace=namespace, room=target, **kwargs)


def socket_manager(settings: Settings) -> socketio.AsyncRedisManager | None:
    """python-socketio's Redis manager (emits reach every process's clients), None for one process."""
    if not settings.redis_url:
        return None
    return _LocalFirstManager(settings.redis_url, channel="crowdfill:socketio")
