"""Writing to Socket.IO clients (crowdfill.server.socket_writer): complete, in order, and closed
when the client goes, with each writer; long-polling clients keep working."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import engineio
import httpx
import pytest
import uvicorn
import websockets
from engineio import async_socket

from crowdfill.server.raw_frames import FramedWebSocket
from crowdfill.server.settings import SOCKET_WRITERS
from crowdfill.server.socket_writer import LeanEngine, LeanSocket, run_until_suspended
from tests.support.crowd import join
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.raw_websocket import RawClient
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

ROWS = 40
GRID: dict[str, Any] = {
    "name": "grid",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}]},
    "template": [{} for _ in range(ROWS)],
    "budget_cents": 10_000,
}


@pytest.fixture(params=SOCKET_WRITERS)
def writer(request: pytest.FixtureRequest) -> str:
    chosen: str = request.param
    return chosen


@pytest.fixture
def server(writer: str) -> Iterator[LiveServer]:
    settings = test_settings(socket_writer=writer, rate_limit_ops_per_second=1000.0, rate_limit_burst=1000)
    # The WebSocket implementation crowdfill serve runs on (the "frame" writer needs it).
    with live_server(settings, ws="websockets-sansio") as running:
        yield running


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=10) as client:
        yield client


def engine_sockets(server: LiveServer) -> list[Any]:
    return list(server.app.sockets.sio.eio.sockets.values())


async def until(condition: Any, what: str, timeout: float = 10) -> None:
    """Wait for ``condition()`` (a bound on the wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


async def test_every_websocket_connection_is_written_to_by_the_chosen_writer(
    server: LiveServer, http: httpx.AsyncClient, writer: str
) -> None:
    table = await create_table(http, GRID)
    workers = await join(server, http, table["id"], "ann", "bob")
    sockets = engine_sockets(server)
    assert len(sockets) == 2
    expected = async_socket.AsyncSocket if writer == "engineio" else LeanSocket
    assert all(type(s) is expected and s.upgraded for s in sockets), [type(s) for s in sockets]
    if writer != "engineio":
        assert all(s.direct == (writer in ("frame", "direct")) for s in sockets)
        # "frame": whole frames to uvicorn's transport (crowdfill.server.raw_frames); else the ASGI send.
        framed = [type(s._ws) is FramedWebSocket for s in sockets]
        assert framed == [writer == "frame"] * 2, framed
    for worker in workers:
        await worker.disconnect()


async def test_a_burst_from_two_workers_reaches_every_other_worker_complete_and_in_seq_order(
    server: LiveServer, http: httpx.AsyncClient, writer: str
) -> None:
    table = await create_table(http, GRID)
    ann, bob, cat, dan = await join(server, http, table["id"], "ann", "bob", "cat", "dan")
    rows = list(ann.rows())
    acks = await asyncio.gather(
        *(ann.fill(row, "a", f"a{index}") for index, row in enumerate(rows)),
        *(bob.fill(row, "b", f"b{index}") for index, row in enumerate(rows)),
    )
    assert all(ack["ok"] for ack in acks), [ack for ack in acks if not ack["ok"]][:3]
    by_sender = {"ann": {a["seq"] for a in acks[:ROWS]}, "bob": {a["seq"] for a in acks[ROWS:]}}
    everything = by_sender["ann"] | by_sender["bob"]
    for name, worker in (("ann", ann), ("bob", bob), ("cat", cat), ("dan", dan)):
        await worker.wait_for_seq(max(everything))
        seen = [entry["seq"] for entry in worker.forwarded]
        # Each operation exactly once, in seq order, and never one's own (that comes as the ack).
        assert seen == sorted(everything - by_sender.get(name, set())), name
    if writer == "frame":  # and they went to the transports as whole frames (raw_frames)
        written = [s._ws.written for s in engine_sockets(server)]
        assert all(count > 0 for count in written), written
    for worker in (ann, bob, cat, dan):
        await worker.disconnect()


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
async def test_long_polling_and_upgrading_workers_get_their_acks_and_every_forward(
    server: LiveServer, http: httpx.AsyncClient, transports: list[str]
) -> None:
    table = await create_table(http, GRID)
    [ann] = await join(server, http, table["id"], "ann")
    polling = WorkerClient(server.base_url, await worker_token(http, table["id"], "pat"), transports)
    await polling.connect()
    rows = list(ann.rows())
    sent = await asyncio.gather(*(ann.fill(row, "a", "x") for row in rows[:10]))
    mine = await polling.fill(rows[10], "b", "y")
    assert mine["ok"], mine
    await polling.wait_for_seq(max(ack["seq"] for ack in sent))
    assert [entry["seq"] for entry in polling.forwarded] == sorted(ack["seq"] for ack in sent)
    await ann.wait_for_seq(mine["seq"])
    assert mine["seq"] in {entry["seq"] for entry in ann.forwarded}
    # Dropped, not closed: python-socketio's polling client waits out its pending GET (up to a
    # ping interval) before closing, which this test does not need to measure.
    await polling.abandon()
    await ann.disconnect()


async def test_a_worker_whose_connection_drops_leaves_the_table_and_the_others_keep_working(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, GRID)
    ann, bob = await join(server, http, table["id"], "ann", "bob")
    presence = server.app.sockets.presence
    await bob.abandon()
    await until(lambda: set(presence.online(table["id"])) == {"ann"}, "the dropped worker stayed online")
    await until(lambda: len(engine_sockets(server)) == 1, "the dropped connection stayed open")
    ack = await ann.fill(next(iter(ann.rows())), "a", "still here")
    assert ack["ok"], ack
    await ann.disconnect()


async def test_a_client_that_stops_answering_pings_is_disconnected(server: LiveServer) -> None:
    engine = server.app.sockets.sio.eio
    engine.ping_interval, engine.ping_timeout = 0.2, 0.2
    url = server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    received: list[str] = []
    async with asyncio.timeout(20), websockets.connect(url) as client:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:  # read everything, answer nothing
                message = await client.recv()
                received.append(str(message))
    assert received[0].startswith("0"), received[:1]  # the Engine.IO OPEN packet
    assert "2" in received, received  # a ping went unanswered before the server closed
    await until(lambda: not engine_sockets(server), "the server kept the silent client's socket")


# ------------------------------------------------------------------ a reader slower than the writes
FRAMES = 200  # 13 MB: more than the kernel's buffers hold for a reader with a small receive buffer
FILLER = "x" * (64 << 10)


@contextlib.contextmanager
def burst_engine(writer: str) -> Iterator[tuple[str, threading.Event, list[int]]]:
    """A bare ``LeanEngine`` under uvicorn (the production WebSocket stack) that answers the
    message ``burst`` with FRAMES large messages sent back to back, without waiting for the client.

    Yields the WebSocket URL, an event set when the burst was handed over, and the number of
    direct writes that had to wait for the client (one entry per burst)."""
    engine = LeanEngine(async_mode="asgi", logger=False)
    engine.writer = writer
    done = threading.Event()
    waited: list[int] = []

    async def on_message(sid: str, data: Any) -> None:
        if data != "burst":
            return
        count = 0
        for index in range(FRAMES):
            await engine.send(sid, f"{index:05d}{FILLER}")
            count += getattr(engine.sockets[sid], "_pending", None) is not None
        waited.append(count)
        done.set()

    engine.on("message", on_message)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Small kernel buffers on both ends (accepted sockets inherit this one's), so a burst to a
    # client that does not read fills the transport's own buffer instead of the kernel's.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(engineio.ASGIApp(engine), log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the engine server did not start")
        time.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket", done, waited
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


async def test_messages_to_a_reader_slower_than_the_writes_arrive_complete_and_in_order(writer: str) -> None:
    with burst_engine(writer) as (url, done, waited):
        reader = await asyncio.to_thread(RawClient, url, small_buffer=True)
        try:
            reader.send("4burst")
            assert await asyncio.to_thread(done.wait, 30), "the burst was not handed over"
            # Only now does the client read: the burst waited in the server's buffers.
            texts = await asyncio.to_thread(reader.read_until, 1 + FRAMES)
        finally:
            reader.close()
    messages = [text for text in texts[1:] if text.startswith("4")]
    assert all(message.endswith(FILLER) for message in messages)
    assert [int(message[1:6]) for message in messages] == list(range(FRAMES))
    if writer in ("frame", "direct"):
        # The transport's buffer filled up: some direct writes waited (and kept their place).
        assert waited[0] > 0, waited


async def test_a_write_that_does_not_wait_is_finished_at_once_and_one_that_waits_finishes_later() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def quick() -> None:
        steps.append("quick")

    async def waiting() -> None:
        steps.append("waiting: started")
        await gate.wait()
        await asyncio.sleep(0)
        steps.append("waiting: finished")

    assert run_until_suspended(quick()) is None
    assert steps == ["quick"]
    rest = run_until_suspended(waiting())
    assert rest is not None
    assert steps == ["quick", "waiting: started"]
    gate.set()
    await rest
    assert steps == ["quick", "waiting: started", "waiting: finished"]
