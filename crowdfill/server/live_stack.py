"""The event loop and HTTP/WebSocket implementations ``crowdfill serve`` runs on.

The defaults are the fastest stack uvicorn supports that was measured on the live path
(docs/benchmarks.md, "The live path"): uvloop, httptools and the sans-I/O implementation on the
``websockets`` package (about 18 % less server CPU per delivered message than that package's
older asyncio implementation, ``--ws websockets``). Each can be switched back to the pure-Python
choice (``--loop asyncio``, ``--http h11``, ``--ws wsproto``) where a compiled package is
unavailable or misbehaves; a default whose package is missing falls back by itself, with a note.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

LOOPS = ("uvloop", "asyncio")
HTTP = ("httptools", "h11")
WEBSOCKETS = ("websockets-sansio", "websockets", "wsproto")
DEFAULT_LOOP = "uvloop"
DEFAULT_HTTP = "httptools"
DEFAULT_WS = "websockets-sansio"

# The module each choice needs (the pure-Python ones come with uvicorn itself).
_MODULES = {"uvloop": "uvloop", "httptools": "httptools", "websockets": "websockets", "wsproto": "wsproto"}
_FALLBACK = {"uvloop": "asyncio", "httptools": "h11", "websockets": "wsproto", "websockets-sansio": "wsproto"}


@dataclass(frozen=True)
class LiveStack:
    loop: str
    http: str
    ws: str
    notes: tuple[str, ...] = ()

    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop]:
        if self.loop == "uvloop":
            import uvloop  # present: checked by choose_stack

            return uvloop.new_event_loop
        return asyncio.new_event_loop


def _installed(choice: str) -> bool:
    module = _MODULES.get(choice)
    if choice == "websockets-sansio":
        module = "websockets"
    return module is None or importlib.util.find_spec(module) is not None


def choose_stack(loop: str | None = None, http: str | None = None, ws: str | None = None) -> LiveStack:
    """The stack to run. A choice that was named must be installed; a default falls back with a note."""
    chosen: list[str] = []
    notes: list[str] = []
    for kind, named, default in (
        ("loop", loop, DEFAULT_LOOP),
        ("http", http, DEFAULT_HTTP),
        ("ws", ws, DEFAULT_WS),
    ):
        choice = named or default
        if not _installed(choice):
            package = _MODULES.get(choice, "websockets")
            if named is not None:
                raise ValueError(f"--{kind} {choice} needs the package {package!r}, which is not installed")
            fallback = _FALLBACK[choice]
            notes.append(f"{package} is not installed: serving with --{kind} {fallback}")
            choice = fallback
        chosen.append(choice)
    return LiveStack(chosen[0], chosen[1], chosen[2], tuple(notes))
