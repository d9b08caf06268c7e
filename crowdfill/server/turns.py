"""One connection's operations reach the sequencer in the order it sent them, from a follower too.

In the process that sequences a table, the owner's queue keeps each connection's order. A follower
sends each operation on to the table's leader over the bus (``crowdfill.server.cluster_node``),
and a forward can be held up after it started: the leader was unreachable or had just given the
table up (nothing was acted on), so the follower waits and asks whoever holds the table next.
Another operation of the same connection, forwarded meanwhile, would get there first, and one that
depends on the first (a fill of the row it creates) would be refused. So a follower forwards one
connection's operations one at a time, each once the one before it has its answer.

That costs a connection on a follower one round trip to the leader per operation in a burst; the
operations of different connections still travel side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    """Whose turn it is, per key: the holders of one key's turns in the order they asked."""

    def __init__(self) -> None:
        # Per key, the future the next asker waits on; gone when nobody holds or waits for a turn.
        self._last: dict[str, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        return len(self._last)

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Held once every turn ``key`` was given before this one has ended. A turn is taken in the
        order of the calls (the call's first step), so tasks started in order take them in order."""
        before = self._last.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        try:
            if before is not None and not before.done():
                await asyncio.wait((before,))
            yield
        finally:
            if before is not None and not before.done():
                # Cancelled while it waited: the next in line still waits for the one before it.
                before.add_done_callback(lambda _: self._end(key, mine))
            else:
                self._end(key, mine)

    def _end(self, key: str, mine: asyncio.Future[None]) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._last.get(key) is mine:
            del self._last[key]
