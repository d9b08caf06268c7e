"""Checks before serving: a data directory or store the server cannot use is one clear line."""

from __future__ import annotations

import errno
import socket
import tempfile
from pathlib import Path

from crowdfill.store.port import Store, StoreError


class StartupError(Exception):
    """Why the server cannot start, in one line an operator can act on."""


def describe(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    return f"cannot use{where}: {error.strerror or error}"


def check_data_dir(path: Path) -> None:
    """Create ``path`` if needed and prove the server can write there (by writing, not by mode bits)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Permission bits do not tell (root ignores them; a read-only mount ignores them all):
        # creating a file does.
        with tempfile.TemporaryFile(dir=path, prefix=".crowdfill-write-check-"):
            pass
    except OSError as error:
        raise StartupError(f"the data directory {path} is not usable: {describe(error)}") from error


def check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on, before anything is opened, and say what to do."""
    if port == 0:
        return  # the system picks a free one
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise StartupError(f"cannot listen on {host!r}: {error}") from error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"port {port} on {host} is already in use (is another crowdfill serve running?); "
                    f"stop it, or choose another port: crowdfill serve --port {port + 1}"
                ) from error
            raise StartupError(f"cannot listen on {host}:{port}: {describe(error)}") from error


async def open_store(store: Store) -> None:
    """Open the store now (opening is idempotent; the app's startup opens it again for free)."""
    try:
        await store.open()
    except StoreError as error:
        raise StartupError(f"cannot open the store: {error}") from error
