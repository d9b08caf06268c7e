"""Frames below Socket.IO that python-engineio cannot decode: answered, logged in one line, harmless."""

from __future__ import annotations

import json
import logging

import aiohttp
import httpx
import pytest

from tests.support.live_server import LiveServer

BAD_FRAMES = ["", "x", "9", "4[[[[[[[[[[" + "[" * 100_000, '4{"a":1}', '4"text"']


async def test_bad_websocket_frames_get_an_error_event_and_the_connection_lives_on(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    url = server.base_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert (await ws.receive_str(timeout=5)).startswith("0{")
        for frame in BAD_FRAMES:
            await ws.send_str(frame)
            answer = await ws.receive_str(timeout=5)
            assert answer.startswith("42"), (frame[:20], answer)
            event, error = json.loads(answer[2:])
            assert event == "error"
            assert error["code"] == "malformed"
            assert error["message"]
        # The same connection still speaks Socket.IO: a connect to an unknown namespace is refused.
        await ws.send_str("40/nowhere,")
        assert (await ws.receive_str(timeout=5)).startswith("44/nowhere,")
    lines = [r for r in caplog.records if r.name == "crowdfill.server.engine_guard"]
    assert len(lines) == len(BAD_FRAMES)
    assert not [r for r in caplog.records if r.exc_info is not None]


async def test_a_bad_polling_payload_is_a_400_naming_the_problem(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        opened = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = json.loads(opened.text[1:])["sid"]
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        for body in [b"x", b"3\x1e4[" + b"[" * 10_000, b"\xff\xfe"]:
            refused = await http.post("/socket.io/", params=params, content=body)
            assert refused.status_code == 400
            assert refused.json()["error"]["code"] == "malformed"
        assert (await http.post("/socket.io/", params=params, content=b"40/nowhere,")).status_code == 200
    assert not [r for r in caplog.records if r.exc_info is not None]
