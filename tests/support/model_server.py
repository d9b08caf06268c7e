"""A real model server for the HTTP assistant's tests: ``http.server`` on a loopback port, in a thread.

It follows the contract of docs/model-in-the-loop.md with a word rule (a text holding "good" is
positive, else negative) and can misbehave on demand: ``delay`` seconds before answering,
``failures`` 500s first, or a fixed ``raw`` body (e.g. not JSON).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.live_server import free_port


def word_rule(body: dict[str, Any]) -> dict[str, Any]:
    text = str(body.get("values", {}).get("text", ""))
    label = "positive" if "good" in text.lower() else "negative"
    if body.get("task") == "suggest":
        columns = body.get("columns", [])
        return {
            "suggestions": [{"column": "label", "value": label, "confidence": 0.75}]
            if "label" in columns
            else []
        }
    return {"value": label, "confidence": 0.75}


class ModelServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.delay = 0.0
        self.failures = 0
        self.raw: bytes | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/model"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server dispatches POST requests to
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with server._lock:
                    server.requests.append(body)
                    delay, raw = server.delay, server.raw
                    failing = server.failures > 0
                    server.failures -= 1 if failing else 0
                if delay:
                    time.sleep(delay)
                status = 500 if failing else 200
                payload = (
                    b"{}" if failing else raw if raw is not None else json.dumps(word_rule(body)).encode()
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting (the timeout tests)

            def log_message(self, format: str, *args: Any) -> None:  # http.server's name
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="model-server", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def calls(self) -> int:
        with self._lock:
            return len(self.requests)
