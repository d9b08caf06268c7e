"""Messages between the processes of one deployment, over Redis pub/sub (docs/deploy.md).

Each process (a *node*) subscribes to its own channel, for requests addressed to it and the replies
to its own requests, and to one broadcast channel, which the sequencing node uses to tell the
others what it published. Redis keeps none of it: a message nobody was subscribed for is gone.
That is all the protocol needs, because the store's log is the truth. A lost broadcast shows up
as a seq gap, which the follower closes from the store. A lost request or reply shows up as a
timeout, reported to the submitter as "unknown, retry" and never as an acknowledgement.

``request`` fails at once with ``Unreachable`` when no process listens on the target's channel
(Redis's PUBLISH counts the receivers), so a dead owner costs a submitter no timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
PREFIX = "crowdfill"
BROADCAST = f"{PREFIX}:broadcast"
RETRY_S = 0.5


class BusError(Exception):
    """A request that got no answer: the caller cannot know whether the target acted on it."""


class Unreachable(BusError):
    """Nobody listens on the target's channel: the request certainly was not acted on."""


def node_channel(node: str) -> str:
    return f"{PREFIX}:node:{node}"


class Bus:
    """One node's connection to the others: requests with replies, and broadcasts."""

    def __init__(self, url: str, node: str) -> None:
        self.url = url
        self.node = node
        self.on_request: Callable[[JSON], Awaitable[JSON]] | None = None
        self.on_broadcast: Callable[[JSON], Awaitable[None]] | None = None
        self._redis: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[JSON]] = {}
        self._handling: set[asyncio.Task[None]] = set()
        self._subscribed = asyncio.Event()

    async def check(self) -> None:
        """BusError unless Redis answers at ``url``."""
        probe = Redis.from_url(self.url, socket_connect_timeout=5)
        try:
            await probe.ping()
        except RedisError as error:
            raise BusError(f"Redis is not reachable: {error}") from error
        finally:
            await probe.aclose()

    async def start(self) -> None:
        await self.check()
        self._redis = Redis.from_url(self.url)
        self._reader = asyncio.create_task(self._read(), name=f"bus:{self.node}")
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def stop(self) -> None:
        reader, self._reader = self._reader, None
        for task in [*([reader] if reader else []), *self._handling]:
            task.cancel()
            # Cancelled on purpose: that is how these tasks end.
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(BusError("the server is shutting down"))
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # ------------------------------------------------------------------ sending
    async def broadcast(self, message: JSON) -> None:
        await self._publish(BROADCAST, {"kind": "broadcast", "from": self.node, "body": message})

    async def request(self, node: str, body: JSON, timeout: float) -> JSON:
        """``body`` to ``node``'s request handler; its reply. Unreachable or BusError (a timeout)."""
        request_id = secrets.token_hex(8)
        future: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            message = {"kind": "request", "id": request_id, "from": self.node, "body": body}
            if await self._publish(node_channel(node), message) == 0:
                raise Unreachable(f"no server listens as {node!r}")
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as error:
            raise BusError(f"{node!r} did not answer within {timeout:.1f} s") from error
        finally:
            self._waiting.pop(request_id, None)

    async def _publish(self, channel: str, message: JSON) -> int:
        if self._redis is None:
            raise Unreachable("the bus is not started")
        try:
            receivers: int = await self._redis.publish(channel, json.dumps(message, separators=(",", ":")))
        except RedisError as error:
            raise Unreachable(f"Redis refused the message: {error}") from error
        return receivers

    # ------------------------------------------------------------------ receiving
    async def _read(self) -> None:
        while True:
            assert self._redis is not None
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(node_channel(self.node), BROADCAST)
                self._subscribed.set()
                async for raw in pubsub.listen():
                    await self._dispatch(raw)
            except RedisError as error:
                logger.warning("the Redis bus lost its connection (%s); reconnecting", error)
                await asyncio.sleep(RETRY_S)
            finally:
                with contextlib.suppress(RedisError):
                    # redis-py annotates aclose from 8.2 on, not before (pyproject allows >=5).
                    await cast(Any, pubsub).aclose()

    async def _dispatch(self, raw: Any) -> None:
        if raw.get("type") != "message":
            return
        try:
            message = json.loads(raw["data"])
            kind = message["kind"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed bus message")
            return
        if kind == "broadcast":
            # In the reader, one at a time: a table's batches must be applied in the order sent.
            if message.get("from") != self.node and self.on_broadcast is not None:
                try:
                    await self.on_broadcast(message["body"])
                except Exception:
                    # One bad message must not stop this node hearing the others (it resyncs later).
                    logger.exception("handling a broadcast failed")
        elif kind == "request":
            task = asyncio.create_task(self._answer(message))
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
        elif kind == "reply":
            future = self._waiting.get(message.get("id", ""))
            if future is not None and not future.done():
                future.set_result(message["body"])

    async def _answer(self, message: JSON) -> None:
        if self.on_request is None:
            return
        body = await self.on_request(message["body"])
        reply = {"kind": "reply", "id": message["id"], "from": self.node, "body": body}
        try:
            await self._publish(node_channel(message["from"]), reply)
        except Unreachable as error:
            logger.warning("a reply to %s was lost: %s", message["from"], error)
