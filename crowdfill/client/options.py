"""``--server`` and ``--token`` for the commands that talk to a running server, and the client they make."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from crowdfill.client.sync import Client
from crowdfill.client.token_file import read_kept_token, token_path
from crowdfill.client.transport import DEFAULT_SERVER


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--server`` and ``--token``, read by ``server_url`` and ``requester_token``."""
    parser.add_argument("--server", default=None, help=f"server URL (env CROWDFILL_SERVER; {DEFAULT_SERVER})")
    parser.add_argument(
        "--token",
        default=None,
        help="requester token (env CROWDFILL_REQUESTER_TOKEN; default: the one the server keeps "
        "in its data directory)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the server's data directory, where its requester token is kept "
        "(env CROWDFILL_DATA_DIR; ./crowdfill-data)",
    )


def server_url(args: argparse.Namespace) -> str:
    return str(args.server or os.environ.get("CROWDFILL_SERVER") or DEFAULT_SERVER)


def requester_token(args: argparse.Namespace) -> str | None:
    """``--token``, else ``CROWDFILL_REQUESTER_TOKEN``, else the token kept in the data directory."""
    token: str | None = args.token or os.environ.get("CROWDFILL_REQUESTER_TOKEN")
    return token or read_kept_token(kept_token_path(args))


def kept_token_path(args: argparse.Namespace) -> Path:
    given: Path | None = getattr(args, "data_dir", None)
    return token_path(given)


def requester_client(args: argparse.Namespace, timeout: float = 30.0) -> Client:
    """The client the command's ``--server`` and ``--token`` (or their variables) name."""
    return Client(server_url(args), requester_token(args), timeout=timeout)
