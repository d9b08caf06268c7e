"""Each worker connection's operations that were accepted and are not answered yet.

An operation is acknowledged once it is durable, which may be some milliseconds after it was
accepted (the commit linger, the fsync: crowdfill.server.owner). A connection the server ends
(a client that goes on sending while rate limited, or sends malformed messages) is answered for
what it had sent before that first, so it learns which of its operations were sequenced.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterator
from typing import Any


class InFlight:
    """The unanswered operations of each connection, as futures done once each is answered."""

    def __init__(self) -> None:
        self._by_sid: dict[str, set[asyncio.Future[Any]]] = {}

    def add(self, sid: str, answered: asyncio.Future[Any]) -> None:
        """Track ``answered`` until it is done (its own earlier callbacks, the answer, run first)."""
        if answered.done():
            return
        self._by_sid.setdefault(sid, set()).add(answered)
        answered.add_done_callback(functools.partial(self._settled, sid))

    @contextlib.contextmanager
    def answering(self, sid: str) -> Iterator[None]:
        """Track an operation of ``sid`` answered by the time the block ends (a coroutine that
        awaits the operation's outcome and answers it, or returns the answer to the libraries,
        which send it before anyone waiting here resumes)."""
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.add(sid, answered)
        try:
            yield
        finally:
            answered.set_result(None)

    def count(self, sid: str) -> int:
        return len(self._by_sid.get(sid, ()))

    async def answered(self, sid: str, timeout: float) -> None:
        """Return once every operation of ``sid`` in flight now is answered, or after ``timeout``."""
        pending = self._by_sid.get(sid)
        if pending:
            await asyncio.wait(set(pending), timeout=timeout)

    def _settled(self, sid: str, answered: asyncio.Future[Any]) -> None:
        pending = self._by_sid.get(sid)
        if pending is not None:
            pending.discard(answered)
            if not pending:
                del self._by_sid[sid]
