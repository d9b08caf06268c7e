"""Memory of a big table after a restart from its state capture, and where the bytes go.

Given a SQLite data directory holding a table built by ``bench/bigtable.py``, this stores a state
capture ``--tail`` operations before the end of the log (as ``bench/scale.py`` does), then, in a
fresh interpreter, recovers a ``TableOwner`` from it (capture load, then the log tail, exactly as
``crowdfill serve`` does at startup) and reports:

- ``rss_delta_mb`` / ``rss_bytes_per_op``: the process's resident memory grown by the recovery
  (psutil, after a full collection), per logged operation;
- ``capture_load_s``: seconds to verify and unpickle the capture (process CPU; ``capture_s`` the
  wall clock of the whole recovery, tail included); since capture FORMAT 6 that is its first
  pickle, and ``estimator_load_s`` the second (the estimator, loaded once the table serves; 0
  for older checkouts, which load it with the rest), ``catch_up_s`` the estimator's deferred work;
- with ``--walk``: the bytes reachable from each structure of the owner (``sys.getsizeof`` over the
  object graph, each object counted once, for the first structure that reaches it), per logged op.

The script imports only ``crowdfill`` (from the current directory first), so running it from
another checkout measures that checkout's representation on the same data: that is the A/B
``bench/scale.py`` does against a baseline checkout. Usage:
``python bench/restore_memory.py DATA_DIR TABLE_ID [--tail N] [--walk]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DB = "crowdfill.sqlite3"
TOKEN = "bench-requester-token"  # noqa: S105  # a throwaway token for a local benchmark
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105  # same: local benchmark only


class _Quiet:
    async def published(self, owner: Any, entries: Any) -> None:
        return None

    async def completed(self, owner: Any) -> None:
        return None

    def changed(self, owner: Any) -> None:
        return None


def _owner(store: Any, record: Any, table_id: str) -> Any:
    from crowdfill.server.definition import spec_from_json
    from crowdfill.server.owner import TableOwner
    from crowdfill.server.settings import Settings

    settings = Settings(requester_token=TOKEN, secret=SECRET, capture_every=0)
    return TableOwner(table_id, spec_from_json(record.definition), record.status, store, settings, _Quiet())


async def _store_capture(data_dir: Path, table_id: str, tail: int) -> int:
    from crowdfill.server.recovery import _replay_tail, capture_bytes
    from crowdfill.store import SQLiteStore

    store = SQLiteStore(data_dir / DB)
    await store.open()
    try:
        record = await store.get_table(table_id)
        assert record is not None
        seq = max(0, await store.last_seq(table_id) - tail)
        owner = _owner(store, record, table_id)
        owner.sequencer.start()
        _replay_tail(owner, await store.read_log(table_id, limit=seq), 0)
        owner.seq = seq
        await store.save_capture(table_id, owner.seq, capture_bytes(owner))
        return seq
    finally:
        await store.close()


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


async def _recover(data_dir: Path, table_id: str) -> tuple[Any, dict[str, float]]:
    import crowdfill.server.recovery as recovery
    from crowdfill.store import SQLiteStore

    timings: dict[str, float] = {}
    namespace = vars(recovery)  # recovery calls the decode it imported: the probe replaces that name
    decode = namespace["decode"]

    def timed_decode(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return decode(*args, **kwargs)
        finally:
            timings["capture_load_s"] = time.process_time() - started

    namespace["decode"] = timed_decode
    store = SQLiteStore(data_dir / DB)
    await store.open()
    record = await store.get_table(table_id)
    assert record is not None
    owner = _owner(store, record, table_id)
    started, cpu = time.perf_counter(), time.process_time()
    await owner._recover()
    timings["capture_s"] = time.perf_counter() - started
    timings["recover_cpu_s"] = time.process_time() - cpu
    # What a restored server does once the table serves: load the estimator (the capture's second
    # pickle, since FORMAT 6; older checkouts load it with the rest) and catch it up on the tail.
    # The memory is measured after both, as a server holds it from then on.
    cpu = time.process_time()
    arrive = getattr(owner.estimator, "arrive", None)
    if arrive is not None:
        arrive()
    timings["estimator_load_s"] = time.process_time() - cpu
    cpu = time.process_time()
    owner.estimator.catch_up()
    timings["catch_up_s"] = time.process_time() - cpu
    await store.close()
    return owner, timings


def _roots(owner: Any) -> Iterator[tuple[str, object]]:
    """(name, object) for each structure of the owner, most specific first (a shared object is
    counted for the first root that reaches it)."""
    table = owner.table
    tally = table._tally
    # The rows (their ids and values) first: every other structure's figure is then what it adds.
    # (``_removed`` is the replaced rows' ids of older checkouts, ``_tombstones`` its remnant now.)
    first = (
        "_rows",
        "_live",
        "_removed",
        "_tombstones",
        "_by_values",
        "_groups",
        "_group_of",
        "_best",
        "_final",
    )
    for name in first:
        if hasattr(table, name):
            yield f"table.{name.lstrip('_')}", getattr(table, name)
    for name in sorted(vars(table)):
        if name not in (*first, "_tally", "schema", "template", "scoring"):
            yield f"table.{name.lstrip('_')}", getattr(table, name)
    for name in sorted(vars(tally)):
        yield f"table.tally.{name.lstrip('_')}", getattr(tally, name)
    estimator = owner.estimator
    ledger = estimator._ledger
    for name in sorted(vars(ledger)):
        if name != "schema":
            yield f"ledger.{name.lstrip('_')}", getattr(ledger, name)
    for name in sorted(vars(estimator)):
        if name not in ("_ledger", "_table", "_schema", "_settings"):
            yield f"estimator.{name.lstrip('_')}", getattr(estimator, name)
    yield "central", owner.central
    yield "sequencer", owner.sequencer
    yield "owner.ops_by_worker", owner.ops_by_worker
    yield "owner.replaced", owner._replaced
    yield "owner.filled", owner._filled
    yield "owner.recent", owner._recent


def walk(owner: Any, by_type: dict[str, int]) -> dict[str, int]:
    """Bytes reachable from each root, every object counted once (for the first root reaching it);
    ``by_type`` gets the same bytes by the objects' type names."""
    seen: set[int] = set()
    # Shared, long-lived objects that belong to no table: never counted.
    stop = (type, type(walk), type(sys), type(len))
    for shared in (owner.spec, owner._store, owner._settings, owner._listener, owner):
        seen.add(id(shared))
    sizes: dict[str, int] = {}
    for name, root in _roots(owner):
        total = 0
        stack = [root]
        while stack:
            obj = stack.pop()
            if id(obj) in seen or isinstance(obj, stop):
                continue
            seen.add(id(obj))
            size = sys.getsizeof(obj)
            total += size
            kind = type(obj).__name__
            by_type[kind] = by_type.get(kind, 0) + size
            stack.extend(gc.get_referents(obj))
        sizes[name] = total
    return sizes


def measure(data_dir: Path, table_id: str, walk_it: bool) -> dict[str, Any]:
    import crowdfill.server.owner  # noqa: F401  # imported before the baseline RSS is read

    gc.collect()
    before = _rss()
    owner, timings = asyncio.run(_recover(data_dir, table_id))
    gc.collect()
    grown = _rss() - before
    ops = owner.seq
    result: dict[str, Any] = {
        "ops": ops,
        "rows_ever": len(owner.table._rows),
        "live_rows": len(owner.table),
        "rss_delta_mb": round(grown / 1e6, 1),
        "rss_bytes_per_op": round(grown / ops),
        **{k: round(v, 3) for k, v in timings.items()},
        "code": str(Path(sys.modules["crowdfill"].__file__ or "").parent.parent),
    }
    if walk_it:
        by_type: dict[str, int] = {}
        sizes = walk(owner, by_type)
        result["walk_bytes_per_op"] = round(sum(sizes.values()) / ops)
        result["structures_bytes_per_op"] = {
            name: round(size / ops, 1) for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])
        }
        top = sorted(by_type.items(), key=lambda kv: -kv[1])[:12]
        result["types_bytes_per_op"] = {name: round(size / ops, 1) for name, size in top}
    return result


def run(source: Path, table_id: str, tail: int, *, walk_it: bool, code: Path | None = None) -> dict[str, Any]:
    """Store a capture in a copy of ``source`` and measure a restore from it in a fresh interpreter
    whose ``crowdfill`` comes from ``code`` (default: this checkout)."""
    root = Path(__file__).resolve().parent.parent
    code = code or root
    with tempfile.TemporaryDirectory(prefix="crowdfill-restore-memory-") as scratch:
        shutil.copy(source / DB, Path(scratch) / DB)
        args = [sys.executable, str(Path(__file__).resolve()), scratch, table_id, "--tail", str(tail)]
        env = {**os.environ, "PYTHONPATH": str(code)}
        subprocess.run([*args, "--prepare-only"], cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
        done = subprocess.run(
            [*args, "--measure-only", *(["--walk"] if walk_it else [])],
            cwd=code,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("table_id")
    parser.add_argument("--tail", type=int, default=5000)
    parser.add_argument("--walk", action="store_true", help="attribute the bytes to the owner's structures")
    parser.add_argument("--code", type=Path, default=None, help="checkout whose crowdfill to measure")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_only:
        asyncio.run(_store_capture(args.data_dir, args.table_id, args.tail))
        return
    if args.measure_only:
        print(json.dumps(measure(args.data_dir, args.table_id, args.walk)))
        return
    print(json.dumps(run(args.data_dir, args.table_id, args.tail, walk_it=args.walk, code=args.code)))


if __name__ == "__main__":
    main()
