"""The Redis bus between server processes: requests with replies, broadcasts, and its failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crowdfill.cluster import Bus, BusError, Unreachable
from tests.support.services import RedisServer


@pytest.fixture
async def pair(redis: RedisServer) -> AsyncIterator[tuple[Bus, Bus]]:
    a, b = Bus(redis.url, "node-a"), Bus(redis.url, "node-b")
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


async def test_a_request_gets_the_reply_of_the_node_it_was_sent_to(pair: tuple[Bus, Bus]) -> None:
    a, b = pair

    async def double(body: dict[str, Any]) -> dict[str, Any]:
        return {"twice": body["n"] * 2, "by": b.node}

    b.on_request = double
    assert await a.request("node-b", {"n": 21}, timeout=10) == {"twice": 42, "by": "node-b"}


async def test_a_request_to_a_node_nobody_listens_as_is_unreachable_at_once(pair: tuple[Bus, Bus]) -> None:
    a, _ = pair
    with pytest.raises(Unreachable, match="node-gone"):
        await a.request("node-gone", {}, timeout=10)


async def test_a_request_the_target_does_not_answer_in_time_is_a_bus_error(pair: tuple[Bus, Bus]) -> None:
    a, b = pair
    release = asyncio.Event()

    async def stuck(body: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {}

    b.on_request = stuck
    with pytest.raises(BusError, match="did not answer") as raised:
        await a.request("node-b", {}, timeout=0.2)
    assert not isinstance(raised.value, Unreachable)  # it may have acted: not "certainly not"
    release.set()


async def test_a_broadcast_reaches_the_other_nodes_in_order_and_not_the_sender(pair: tuple[Bus, Bus]) -> None:
    a, b = pair
    heard: dict[str, list[int]] = {"node-a": [], "node-b": []}
    done = asyncio.Event()

    def hearing(node: str) -> Any:
        async def on_broadcast(message: dict[str, Any]) -> None:
            heard[node].append(message["n"])
            if len(heard["node-b"]) == 50:
                done.set()

        return on_broadcast

    a.on_broadcast, b.on_broadcast = hearing("node-a"), hearing("node-b")
    for n in range(50):
        await a.broadcast({"n": n})
    await asyncio.wait_for(done.wait(), 10)
    assert heard["node-b"] == list(range(50))
    assert heard["node-a"] == []


async def test_a_bus_refuses_to_start_without_a_reachable_redis() -> None:
    from tests.support.services import free_port

    bus = Bus(f"redis://127.0.0.1:{free_port()}/0", "node-x")
    with pytest.raises(BusError, match="not reachable"):
        await bus.start()
    await bus.stop()
