"""Where ``crowdfill serve`` keeps the requester token, so the commands find it as the server does.

The server generates the token on first start and keeps it in ``<data dir>/requester-token``
(crowdfill.server.settings, which this layer may not import: the two names are repeated here and
a test holds them equal). The data directory is ``--data-dir``, else ``CROWDFILL_DATA_DIR``, else
``./crowdfill-data``: the same order as the server's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_DATA_DIR = Path("crowdfill-data")
TOKEN_FILE = "requester-token"  # noqa: S105  # a file name, not a secret


def data_dir(given: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if given is not None:
        return given
    return Path(env["CROWDFILL_DATA_DIR"]) if env.get("CROWDFILL_DATA_DIR") else DEFAULT_DATA_DIR


def token_path(given: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    return data_dir(given, environ) / TOKEN_FILE


def read_kept_token(path: Path) -> str | None:
    """The token kept in ``path``, or None when there is none (no file, an empty or unreadable one)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None  # no server has run with this data directory (or it is not ours to read)
    return text or None


def where_the_token_is(path: Path) -> str:
    """The sentence a 401 ends with: how to give the token, and where the server keeps it."""
    return (
        "give the requester token with --token or CROWDFILL_REQUESTER_TOKEN; `crowdfill serve` prints "
        f"it at startup and keeps it in {path} (use --data-dir or CROWDFILL_DATA_DIR for another "
        "data directory)"
    )
