"""A real HTTP receiver for webhook tests: ``http.server`` on a loopback port, in a thread.

It records what it receives and answers ``status`` (200 unless told), or ``failures`` times 500
first. ``start`` may come late (the receiver "down for a while"): its port is chosen up front.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.live_server import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(self.body)
        return event


class Receiver:
    def __init__(self, status: int = 200, failures: int = 0) -> None:
        self.port = free_port()
        self.status = status
        self.failures = failures
        self.received: list[Received] = []
        self.answered: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server dispatches POST requests to
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = receiver.status
                    if receiver.failures > 0:
                        receiver.failures -= 1
                        status = 500
                    receiver.answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # http.server's name
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.event for r in self.received]

    def accepted(self) -> list[dict[str, Any]]:
        """The events of the requests answered 2xx."""
        with self._lock:
            pairs = list(zip(self.received, self.answered, strict=True))
        return [r.event for r, status in pairs if 200 <= status < 300]

    async def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 15) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the receiver did not get what was expected; got {self.events()}")
            await asyncio.sleep(0.02)
