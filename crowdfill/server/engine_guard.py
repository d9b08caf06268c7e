"""The Engine.IO framing under Socket.IO: frames python-engineio would choke on never reach it.

python-engineio decodes each frame a client sends (over the websocket, or a polling POST) without
a guard: an empty frame, a type that is not a digit, an unknown type, or a message whose content is
not a Socket.IO packet (``4[[[[...``, JSON it parses itself) raise inside its receive loop, which
logs a traceback and drops the connection without a word. ``EngineGuard`` (ASGI middleware in
front of the Socket.IO app) checks every text frame first: a bad one is dropped, answered with an
``error`` event and logged in one line; everything else passes untouched (Socket.IO packets are
then checked by ``wire_guard``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crowdfill.server.failures import error_body
from crowdfill.server.wire_guard import LogThrottle

logger = logging.getLogger(__name__)

# Engine.IO v4 packet types a client sends: close, ping, pong, message, upgrade, noop.
_CLIENT_TYPES = frozenset("123456")
_MESSAGE = "4"
_DIGITS = frozenset("0123456789")
_SEPARATOR = "\x1e"  # between packets of one polling payload


def frame_problem(frame: str) -> str | None:
    """Why python-engineio must not see this text frame, or None when it may."""
    if not frame:
        return "an empty Engine.IO packet"
    if frame[0] not in _CLIENT_TYPES:
        return f"unknown Engine.IO packet type {frame[:1]!r}"
    if frame[0] == _MESSAGE and len(frame) > 1 and frame[1] not in _DIGITS and frame[1] != "b":
        # Every Socket.IO packet starts with its type digit; "b" starts a base64 binary message.
        return "an Engine.IO message that is not a Socket.IO packet"
    return None


def _error_frame(problem: str) -> str:
    # An Engine.IO message ("4") holding a Socket.IO "error" event ("2") on the default namespace.
    return "42" + json.dumps(["error", {"code": "malformed", "message": problem}], separators=(",", ":"))


class EngineGuard:
    def __init__(self, app: ASGIApp, limit: int, path: str = "/socket.io") -> None:
        self._app = app
        self._limit = limit
        self._path = path
        self._throttle = LogThrottle()

    def _log(self, scope: Scope, problem: str) -> None:
        admitted, dropped = self._throttle.admit()
        if admitted:
            client = scope.get("client") or ("?", 0)
            suffix = f" ({dropped} more refused since the last line)" if dropped else ""
            logger.warning("refused an Engine.IO frame from %s: malformed: %s%s", client[0], problem, suffix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not str(scope.get("path", "")).startswith(self._path):
            await self._app(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._app(scope, self._frames(scope, receive, send), send)
        elif scope["type"] == "http" and scope.get("method") == "POST":
            await self._polling(scope, receive, send)
        else:
            await self._app(scope, receive, send)

    def _frames(self, scope: Scope, receive: Receive, send: Send) -> Receive:
        async def checked() -> Message:
            while True:
                message = await receive()
                text = message.get("text") if message["type"] == "websocket.receive" else None
                problem = frame_problem(text) if text is not None else None
                if problem is None:
                    return message
                self._log(scope, problem)
                await send({"type": "websocket.send", "text": _error_frame(problem)})

        return checked

    async def _polling(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self._limit or not message.get("more_body", False):
                break
        problem = None
        if size <= self._limit and messages[-1]["type"] == "http.request":
            try:
                payload = b"".join(chunks).decode("utf-8")
            except UnicodeDecodeError:
                problem = "the payload is not valid UTF-8"
            else:
                frames = payload.split(_SEPARATOR) if payload else []
                problem = next(filter(None, map(frame_problem, frames)), None)
        if problem is not None:
            self._log(scope, problem)
            await _json_answer(send, 400, error_body("malformed", problem))
            return
        replay = iter(messages)

        async def replayed() -> Message:
            # What was read is handed on unchanged (engineio enforces its own size limit).
            return next(replay, None) or await receive()

        await self._app(scope, replayed, send)


async def _json_answer(send: Send, status: int, body: Any) -> None:
    encoded = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
