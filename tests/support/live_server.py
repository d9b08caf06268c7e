"""A real CrowdFill server for tests and benchmarks: uvicorn on a free port, in a thread or a process.

In a thread (``live_server``): fast, and the test can reach the app's parts (``server.app``)::

    with live_server() as server:
        httpx.get(f"{server.base_url}/api/tables", headers=server.headers)

In a separate process (``ServerProcess``): for crash tests (SIGKILL) and benchmarks, started with
``crowdfill serve`` exactly as a user would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from crowdfill.server.app import CrowdFillApp, create_app
from crowdfill.server.settings import Settings
from crowdfill.store.port import Store

REQUESTER_TOKEN = "test-requester-token"
SECRET = "test-secret-0123456789abcdef"


def test_settings(**changes: Any) -> Settings:
    """Settings with fixed credentials, an in-memory store and quick monitor/estimate pulses."""
    base = Settings(
        requester_token=REQUESTER_TOKEN,
        secret=SECRET,
        store_url="memory://",
        monitor_interval_seconds=0.05,
        estimate_interval_seconds=0.1,
        # A stop forks no capture unless a test asks for one (tests/server/test_shutdown_capture.py).
        shutdown_capture_seconds=0.0,
    )
    return replace(base, **changes)


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


@dataclass
class LiveServer:
    app: CrowdFillApp
    base_url: str
    settings: Settings

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.requester_token}"}


@contextlib.contextmanager
def live_server(
    settings: Settings | None = None, store: Store | None = None, ws: str = "wsproto"
) -> Iterator[LiveServer]:
    """``create_app`` under uvicorn on a free loopback port, in a background thread (``ws``:
    uvicorn's WebSocket implementation; ``crowdfill serve`` runs on ``websockets-sansio``)."""
    chosen = settings if settings is not None else test_settings()
    app = create_app(chosen, store)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        ws=ws,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[listener]))
        except BaseException as error:  # noqa: BLE001  # handed to the test thread, which raises it
            failure.append(error)

    thread = threading.Thread(target=serve, name="crowdfill-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            listener.close()
            raise RuntimeError(f"the live server did not start: {failure[:1] or 'timeout'}")
        time.sleep(0.01)
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}", chosen)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``crowdfill serve`` in a child process, on a fixed data directory (survives restarts)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        store_url: str | None = None,
        port: int | None = None,
        extra_args: list[str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.store_url = store_url
        self.port = port or free_port()
        self.extra_args = extra_args or []
        self.log_path = log_path or data_dir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {REQUESTER_TOKEN}"}

    @property
    def pid(self) -> int:
        assert self.process is not None, "start() first"
        return self.process.pid

    def start(self, timeout: float = 30) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "crowdfill.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--requester-token",
            REQUESTER_TOKEN,
            "--secret",
            SECRET,
            "--log-level",
            "warning",
            *self.extra_args,
        ]
        if self.store_url:
            command += ["--store-url", self.store_url]
        env = dict(os.environ)
        env.pop("PYTHONWARNINGS", None)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {self.log_path}")
            try:
                response = httpx.get(f"{self.base_url}/api/tables", headers=self.headers, timeout=1)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.05)
        raise RuntimeError(f"the server did not become ready in {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (what a crash looks like to the store)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cluster_processes(
    tmp_path: Path, store_url: str, redis_url: str, count: int, lease_ttl: float
) -> list[ServerProcess]:
    """``count`` server processes on one store and one Redis (not started), each in its own data directory."""
    args = ["--redis-url", redis_url, "--lease-ttl", str(lease_ttl)]
    return [ServerProcess(tmp_path / f"node{i}", store_url=store_url, extra_args=args) for i in range(count)]
