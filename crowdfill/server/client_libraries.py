"""Importing the server's Socket.IO without the HTTP libraries of Socket.IO's clients.

``import socketio`` imports the package's clients too (its ``__init__`` imports everything), and
with them aiohttp (Engine.IO's asyncio client) and requests (its threaded one, with urllib3 and
charset_normalizer): about a tenth of a second of a server's start (docs/scale.md, "Before the
table serves"), for clients a server never runs. Engine.IO imports both inside ``try`` and falls
back to None when one is missing. ``without_client_libraries`` makes them look missing while the
server's modules are imported (a None in ``sys.modules`` makes an import raise ImportError) and
puts ``sys.modules`` back after, so a later ``import aiohttp`` in the process imports it as usual;
only Socket.IO clients made in that process (a server makes none) would find no HTTP library.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

CLIENT_LIBRARIES = ("aiohttp", "requests")


@contextmanager
def without_client_libraries() -> Iterator[None]:
    """Inside the block, importing the client libraries that are not imported yet fails."""
    hidden = [name for name in CLIENT_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # what the import system reads as "missing"
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
