"""Throwaway PostgreSQL and Redis servers for tests: Debian's binaries, a temp dir, loopback ports.

``scripts/install-services`` (run by ``make test``) installs the packages. Without them the tests
that need a server are skipped locally, with the reason, and FAIL under CI (``CI`` set), where a
missing server means the machine was not prepared, not that the tests may be left out.

PostgreSQL refuses to run as root, so as root ``initdb`` and the server run as the ``postgres``
user (created by Debian's package) on a temp dir that user owns. The cluster is for tests only:
``fsync=off`` because nothing here survives a machine crash anyway, and it keeps the suite fast.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

START_TIMEOUT_S = 30.0
DEBIAN_POSTGRES_BIN = Path("/usr/lib/postgresql")


def unavailable(what: str) -> None:
    """Skip (locally) or fail (in CI) a test that needs a server this machine does not have."""
    message = f"{what}; install it with scripts/install-services (make test does)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI must provide it: {message}")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's versioned directory (newest version)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(
        (p for p in DEBIAN_POSTGRES_BIN.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _as_server_user(owner: pwd.struct_passwd | None, command: list[str]) -> list[str]:
    return command if owner is None else ["runuser", "-u", owner.pw_name, "--", *command]


def _wait_until(ready: object, what: str, log: Path | None = None) -> None:
    assert callable(ready)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{what} did not start within {START_TIMEOUT_S:.0f} s\n{tail}")
        time.sleep(0.05)


@dataclass
class PostgresServer:
    """One running test cluster; ``new_database()`` gives each test an empty database."""

    bin_dir: Path
    root: Path
    port: int
    owner: pwd.struct_passwd | None
    user: str = "crowdfill"
    _templates: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.encode())

    def new_database(self, template: str = "template1") -> str:
        """The URL of a new database copied from ``template`` (names are random: tests never share one).

        Databases are not dropped: the whole cluster is deleted at the end of the run.
        """
        name = f"test_{uuid.uuid4().hex[:16]}"
        # FILE_COPY: PostgreSQL 15's default (WAL_LOG) is ten times slower for small databases.
        self._execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        return self.url(name)

    def template_named(self, name: str) -> str | None:
        return self._templates.get(name)

    def keep_template(self, name: str, url: str) -> None:
        """Remember a prepared database (e.g. already migrated) for ``new_database(template=...)``."""
        self._templates[name] = url.rsplit("/", 1)[1]

    def start(self) -> None:
        log = self.root / "server.log"
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(log)]
        subprocess.run(
            _as_server_user(
                self.owner, [*command, "-w", "-t", str(int(START_TIMEOUT_S)), "-o", options, "start"]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_server_user(
                self.owner,
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            ),
            check=False,
            capture_output=True,
        )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        unavailable("PostgreSQL (initdb, pg_ctl) is not installed")
    assert bin_dir is not None
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: its parents are private to root, and the server user must reach it.
    root = Path(tempfile.mkdtemp(prefix="crowdfill-pg-"))
    try:
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        server = PostgresServer(bin_dir, root, free_port(), owner)
        subprocess.run(
            _as_server_user(
                owner,
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(server.data_dir),
                    "-U",
                    server.user,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
            ),
            check=True,
            capture_output=True,
        )
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed")
    assert binary is not None
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(port, process)
    try:
        _wait_until(server.ping, "redis-server")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run (each test takes its own ``new_database()``)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    """One Redis server for the whole run."""
    with redis_server() as server:
        yield server
