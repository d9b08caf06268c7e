"""``crowdfill serve``'s loop and HTTP/WebSocket stack: the fast default, and the fallbacks by flag."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import uvloop

from crowdfill.server import live_stack
from tests.support.live_server import ServerProcess
from tests.support.requester import SOCCER
from tests.support.worker_client import WorkerClient


def test_the_default_stack_is_uvloop_httptools_and_sans_io_websockets() -> None:
    stack = live_stack.choose_stack()
    assert (stack.loop, stack.http, stack.ws) == ("uvloop", "httptools", "websockets-sansio")
    assert stack.notes == ()
    loop = stack.loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_the_plain_asyncio_loop_is_a_choice() -> None:
    stack = live_stack.choose_stack(loop="asyncio", http="h11", ws="wsproto")
    loop = stack.loop_factory()()
    try:
        assert not isinstance(loop, uvloop.Loop)
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_serve_refuses_an_unknown_websocket_implementation_by_name() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crowdfill.cli", "serve", "--ws", "carrier-pigeon"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--ws" in result.stderr
    assert "websockets-sansio" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags",
    [[], ["--loop", "asyncio", "--http", "h11", "--ws", "wsproto"], ["--ws", "websockets"]],
    ids=["default", "pure-python", "legacy-websockets"],
)
async def test_a_worker_joins_and_fills_on_every_stack(tmp_path: Path, flags: list[str]) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=flags).start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            table = (await http.post("/api/tables", json=SOCCER)).json()
            (await http.post(f"/api/tables/{table['id']}/launch")).raise_for_status()
            token = (await http.post(f"/api/tables/{table['id']}/links", json={"worker_id": "ann"})).json()
        worker = WorkerClient(process.base_url, token["token"])
        await worker.connect()
        brazil = next(r for r, v in worker.rows().items() if dict(v) == {"nationality": "Brazil"})
        ack = await worker.fill(brazil, "name", "Neymar")
        assert ack["ok"], ack
        await worker.disconnect()
    finally:
        process.stop()
