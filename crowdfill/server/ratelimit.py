"""Trust at the edge: per-worker rate limits and the malformed-message rule (docs/protocol.md).

One token bucket per (table, worker), not per connection, so opening more sockets buys a worker
nothing. The limits are far above what a person clicking in the page reaches; they exist so one
script cannot take the owner's loop (and every honest worker's latency) for itself. A connection
that keeps sending messages the server cannot even parse is not a person's page: after
``malformed_limit`` of them it is disconnected.

A connection that goes on sending while refused (``refusals_limit`` refusals in a row: it ignores
the ``retry_after_ms`` hints) is disconnected too, and its worker may not reconnect to that table
until the bucket would be full again: otherwise every refused message still costs the server
its decoding and its answer, and a reconnecting script would get a fresh burst and a snapshot.

``joined`` records the sequence number a connection was brought up to when it joined (its
snapshot or replay): a fill cannot claim to have seen less than that (see ``seen_floor``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from crowdfill.server.failures import Failure

# Buckets of idle workers are full again and carry no information; past this many, they are dropped.
_PRUNE_ABOVE = 10_000


@dataclass(frozen=True)
class RateLimit:
    """Sustained operations per second and the burst a worker may send at once."""

    ops_per_second: float
    burst: int


class TokenBucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.stamp = now

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.ops_per_second)
        self.stamp = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when one was available, else the seconds until one will be."""
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.limit.ops_per_second

    def full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.limit.burst


class EdgeGuard:
    """The socket edge's per-worker and per-connection bookkeeping; nothing in it outlives its use."""

    def __init__(
        self, malformed_limit: int, refusals_limit: int = 50, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.malformed_limit = malformed_limit
        self.refusals_limit = refusals_limit
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._malformed: dict[str, int] = {}
        self._refusals: dict[str, int] = {}
        self._floors: dict[str, int] = {}
        self._cooling: dict[tuple[str, str], float] = {}

    def admit(self, sid: str, table_id: str, worker_id: str, limit: RateLimit) -> None:
        """Charge one operation to the worker's bucket; ``rate_limited`` (with a retry hint) if empty."""
        try:
            self._take(table_id, worker_id, limit)
        except Failure:
            self._refusals[sid] = self._refusals.get(sid, 0) + 1
            raise
        self._refusals.pop(sid, None)

    def ignoring(self, sid: str) -> bool:
        """True when ``sid`` has just reached ``refusals_limit`` refusals in a row (once)."""
        return self._refusals.get(sid, 0) == self.refusals_limit

    def cool_down(self, table_id: str, worker_id: str, limit: RateLimit) -> None:
        """Refuse the worker's connections to the table until its bucket would be full again."""
        now = self._clock()
        self._cooling = {key: until for key, until in self._cooling.items() if until > now}
        self._cooling[(table_id, worker_id)] = now + limit.burst / limit.ops_per_second

    def check_connect(self, table_id: str, worker_id: str) -> None:
        """``rate_limited`` while the worker is cooling down after a disconnect for flooding."""
        until = self._cooling.get((table_id, worker_id))
        if until is None:
            return
        wait = until - self._clock()
        if wait <= 0:
            del self._cooling[(table_id, worker_id)]
            return
        retry_after_ms = max(1, math.ceil(wait * 1000))
        raise Failure(
            "rate_limited",
            f"this worker was disconnected for sending too fast; reconnect in {retry_after_ms} ms",
            {"retry_after_ms": retry_after_ms},
        )

    def _take(self, table_id: str, worker_id: str, limit: RateLimit) -> None:
        now = self._clock()
        key = (table_id, worker_id)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.limit != limit:
            # A new bucket (or a changed limit) starts full: the limit is about floods, not first clicks.
            if len(self._buckets) >= _PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = TokenBucket(limit, now)
        wait = bucket.take(now)
        if wait > 0:
            retry_after_ms = max(1, math.ceil(wait * 1000))
            raise Failure(
                "rate_limited",
                f"too many operations: at most {limit.ops_per_second:g} per second "
                f"(bursts of {limit.burst}); retry in {retry_after_ms} ms",
                {"retry_after_ms": retry_after_ms},
            )

    def malformed(self, sid: str) -> bool:
        """Count one malformed message on ``sid``; True when this one reaches the limit (once)."""
        count = self._malformed.get(sid, 0) + 1
        self._malformed[sid] = count
        return count == self.malformed_limit

    def joined(self, sid: str, seq: int) -> None:
        self._floors[sid] = seq

    def seen_floor(self, sid: str) -> int:
        """The seq this connection was brought up to when it joined: it has been sent everything before."""
        return self._floors.get(sid, 0)

    def forget(self, sid: str) -> None:
        self._malformed.pop(sid, None)
        self._refusals.pop(sid, None)
        self._floors.pop(sid, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, bucket in self._buckets.items() if bucket.full(now)]:
            del self._buckets[key]
