"""No test here may reach AWS or any other host: opening a network connection fails the test.

Only loopback stays open, for the tests that run a real CrowdFill server in a thread
(``tests/support/live_server.py``) and call it the way the commands do.

Dummy AWS credentials in the environment also stop boto3 from looking for real ones (in files or
from the instance metadata service) when a client is created.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Any

import pytest


def is_loopback(address: object) -> bool:
    """Whether ``address`` (a socket address tuple) names this machine: 127.0.0.0/8, ::1 or localhost."""
    if not isinstance(address, tuple) or not address or not isinstance(address[0], str):
        return False
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    create_connection = socket.create_connection
    connect = socket.socket.connect

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_loopback(address):
            raise AssertionError(f"a markets test tried to open a network connection: {address}")
        return create_connection(address, *args, **kwargs)

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if not is_loopback(address):
            raise AssertionError(f"a markets test tried to open a network connection: {address}")
        connect(self, address)

    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("CROWDFILL_SERVER", raising=False)
    monkeypatch.delenv("CROWDFILL_REQUESTER_TOKEN", raising=False)
