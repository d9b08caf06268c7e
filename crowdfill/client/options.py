"""``--server`` and ``--token`` for the commands that talk to a running server, and the client they make."""

from __future__ import annotations

import argparse
import os

from crowdfill.client.sync import Client
from crowdfill.client.transport import DEFAULT_SERVER


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--server`` and ``--token``, read by ``server_url`` and ``requester_token``."""
    parser.add_argument("--server", default=None, help=f"server URL (env CROWDFILL_SERVER; {DEFAULT_SERVER})")
    parser.add_argument("--token", default=None, help="requester token (env CROWDFILL_REQUESTER_TOKEN)")


def server_url(args: argparse.Namespace) -> str:
    return str(args.server or os.environ.get("CROWDFILL_SERVER") or DEFAULT_SERVER)


def requester_token(args: argparse.Namespace) -> str | None:
    token: str | None = args.token or os.environ.get("CROWDFILL_REQUESTER_TOKEN")
    return token


def requester_client(args: argparse.Namespace, timeout: float = 30.0) -> Client:
    """The client the command's ``--server`` and ``--token`` (or their variables) name."""
    return Client(server_url(args), requester_token(args), timeout=timeout)
