"""What one operation costs the owner: validating and applying it, and making it durable.

The table has the shape of the live-edit harness (docs/benchmarks.md, "The live path"): 245 empty
template rows (the central client inserts 245 empty rows at launch), 5 text columns, the default
``reputation`` scoring with its reweigh emitter running. Workers ``b0``..``b49`` send fills the way
the harness's clients do: a random live row with an empty cell, a random empty column of it, a
fresh row id, ``seen_seq`` the last seq applied. They are submitted to a ``TableOwner`` one at a
time (each awaited: one operation per batch, as at 50 clients x 1 op/s), on a real SQLite store
(``synchronous=FULL`` unless told otherwise), with early forwarding on and a forwarder that drops
what it is given (the forward's cost is the socket layer's, not measured here).

Per operation, in microseconds of CPU time (medians of ``--rounds`` rounds of ``--ops`` operations,
each round on a fresh store and table):

- ``process``: the whole process (both threads: the event loop and the store's);
- ``loop``: the event loop's thread (``time.thread_time``);
- ``store_thread``: the store's thread (its CPU-time clock, the fsync's kernel time included);
- ``apply``: ``Sequencer.apply`` alone (validate, integrate, the central client), timed around
  each call (the inserts the central client asks for included).

The baseline, in the same run (rounds interleaved): the same operations on the in-memory store
(``memory://``, no thread, no disk); ``ratio_sqlite_over_memory`` is the process CPU per operation
of the first over the second. The cyclic garbage collector is frozen after setup, as the server
does after start. Usage: ``python bench/apply.py [--quick] [--ops N] [--rounds N] [--synchronous
FULL|OFF] [--profile] [--gap-ms G] [--linger-ms L]``; the last line printed is one JSON object.
``--gap-ms`` lets the loop idle that long before each operation, as it does between operations at a
low rate: the same work costs several times more CPU after an idle gap than back to back (cold
caches; docs/benchmarks.md, "Idle gaps make each operation dearer"). ``--linger-ms`` sets the
commit linger (``Settings.commit_linger_seconds``; with no gap it is the wait between operations).
``--profile`` prints the event loop thread's cProfile (CPU time) instead. The loop is uvloop's, as
in ``crowdfill serve``, when it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import gc
import json
import pstats
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.quiet import Quiet
from crowdfill.central_client.sequencer import Sequencer
from crowdfill.model import Fill, Sequenced
from crowdfill.server.definition import spec_from_json
from crowdfill.server.gold import gold_verdicts
from crowdfill.server.owner import LIVE, Published, TableOwner
from crowdfill.server.reputation_emitter import ReputationEmitter
from crowdfill.server.settings import Settings
from crowdfill.store import SQLiteStore, TableRecord, open_store
from crowdfill.store.port import Store

TOKEN = "bench-requester-token"  # noqa: S105  # nobody connects: the owner runs without a server
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105  # as above
WORKERS = 50
COLUMNS = tuple(f"c{i}" for i in range(5))
DEFINITION: dict[str, Any] = {
    "name": "live-edit-v1",
    "schema": {"columns": [{"name": name} for name in COLUMNS]},
    "template": [{} for _ in range(245)],
    "budget_cents": 100000,
}


class DroppingForward:
    async def forward(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        return None

    async def reset(self, owner: TableOwner) -> None:
        raise AssertionError("no append fails here")


class TimedApply:
    """Wraps ``Sequencer.apply`` to add up its thread CPU time."""

    def __init__(self, sequencer: Sequencer) -> None:
        self.inner = sequencer.apply
        self.ns = 0

    def __call__(self, op: Sequenced) -> Sequenced:
        started = time.thread_time_ns()
        try:
            return self.inner(op)
        finally:
            self.ns += time.thread_time_ns() - started


def store_thread_clock() -> int:
    """The CPU-time clock of the store's thread (user and system time, the fsync's included)."""
    for thread in threading.enumerate():
        if thread.name.startswith("crowdfill-sqlite") and thread.ident is not None:
            return time.pthread_getcpuclockid(thread.ident)
    raise RuntimeError("the SQLite store's thread is not running")


def next_fill(owner: TableOwner, rnd: random.Random, q: int) -> Fill:
    rows = [row for row in owner.table.rows() if len(row.values) < len(COLUMNS)]
    row = rows[rnd.randrange(len(rows))]
    filled = dict(row.values)
    empty = [name for name in COLUMNS if name not in filled]
    me = rnd.randrange(WORKERS)
    column = empty[rnd.randrange(len(empty))]
    return Fill(f"b{me}", row.row_id, f"b{me}.{q}", column, f"{me}:{q}:0:{time.monotonic_ns()}", frozenset())


async def one_round(
    directory: Path,
    ops: int,
    synchronous: str,
    seed: int,
    profile: bool,
    *,
    memory: bool = False,
    gap: float = 0.0,
    linger: float | None = None,
) -> dict[str, Any]:
    store: Store = (
        open_store("memory://")
        if memory
        else SQLiteStore(directory / f"round-{seed}.sqlite3", synchronous=synchronous)
    )
    await store.open()
    spec = spec_from_json(DEFINITION)
    now = time.time()
    await store.create_table(TableRecord("t", spec.definition, LIVE, now, now))
    settings = Settings(requester_token=TOKEN, secret=SECRET, shutdown_capture_seconds=0.0)
    if linger is not None:
        settings = dataclasses.replace(settings, commit_linger_seconds=linger)
    owner = TableOwner("t", spec, LIVE, store, settings, Quiet())
    owner.early = DroppingForward()
    await owner.load()
    emitter = ReputationEmitter(owner, lambda: gold_verdicts(spec), lambda o, op: asyncio.sleep(0))
    emitter.start()
    timed = TimedApply(owner.sequencer)
    owner.sequencer.apply = timed  # type: ignore[method-assign]  # timing wrapper
    rnd = random.Random(seed)
    for q in range(20):  # warm-up: the store thread exists, the statements are prepared
        await owner.submit(next_fill(owner, rnd, q), "s", owner.seq)
    store_clock = None if memory else store_thread_clock()
    gc.collect()
    gc.freeze()
    timed.ns = 0
    choosing = 0  # the benchmark's own work (choosing the next fill), taken out of the figures
    profiler = cProfile.Profile(time.thread_time_ns, 1e-9) if profile else None
    store0 = 0 if store_clock is None else time.clock_gettime_ns(store_clock)
    process0, loop0 = time.process_time_ns(), time.thread_time_ns()
    for q in range(20, 20 + ops):
        started = time.thread_time_ns()
        op = next_fill(owner, rnd, q)
        choosing += time.thread_time_ns() - started
        if gap:
            await asyncio.sleep(gap)  # the loop idles in between, as at a low rate
        if profiler is not None:
            profiler.enable()
        outcome = await owner.submit(op, "s", owner.seq)
        if profiler is not None:
            profiler.disable()
        assert outcome.published is not None, outcome.failure
    process1, loop1 = time.process_time_ns(), time.thread_time_ns()
    store1 = 0 if store_clock is None else time.clock_gettime_ns(store_clock)
    gc.unfreeze()
    await emitter.stop()
    await owner.stop()
    await store.close()
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
    return {
        "process": (process1 - process0 - choosing) / 1000 / ops,
        "loop": (loop1 - loop0 - choosing) / 1000 / ops,
        "store_thread": (store1 - store0) / 1000 / ops,
        "apply": timed.ns / 1000 / ops,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 operations, 1 round")
    parser.add_argument("--ops", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="where the stores go (default: a temp dir)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="idle time before each operation")
    parser.add_argument(
        "--linger-ms", type=float, default=None, help="the commit linger (default: the server's)"
    )
    args = parser.parse_args()
    if args.quick:
        args.ops, args.rounds = 200, 1
    gap = args.gap_ms / 1000
    linger = None if args.linger_ms is None else args.linger_ms / 1000
    if args.profile:
        with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
            await one_round(
                Path(scratch), args.ops, args.synchronous, args.seed, True, gap=gap, linger=linger
            )
        return
    rounds: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        for r in range(args.rounds):
            rounds.append(
                await one_round(
                    Path(scratch), args.ops, args.synchronous, args.seed + r, False, gap=gap, linger=linger
                )
            )
            baseline.append(
                await one_round(
                    Path(scratch), args.ops, "", args.seed + r, False, memory=True, gap=gap, linger=linger
                )
            )
    figures = {key: round(statistics.median(r[key] for r in rounds), 1) for key in rounds[0]}
    memory = {
        key: round(statistics.median(r[key] for r in baseline), 1) for key in ("process", "loop", "apply")
    }
    for key, value in figures.items():
        each = ", ".join(f"{r[key]:.1f}" for r in rounds)
        print(f"{key:>13}: {value:8.1f} µs per operation ({each})")
    print("memory://: " + ", ".join(f"{key} {value:.1f} µs" for key, value in memory.items()))
    result = {
        "ops": args.ops,
        "rounds": len(rounds),
        "synchronous": args.synchronous,
        "gap_ms": args.gap_ms,
        "linger_ms": Settings.commit_linger_seconds * 1000 if linger is None else args.linger_ms,
        **figures,
        "memory": memory,
        "ratio_sqlite_over_memory": round(figures["process"] / memory["process"], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        import uvloop  # the server's loop (``crowdfill serve``)
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
