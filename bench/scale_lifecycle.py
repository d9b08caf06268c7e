"""Closing, exporting and many tables at scale (issue 17; docs/scale.md, "Closing, exports and many tables").

Per size (logged operations, built by ``bench/bigtable.py`` into a SQLite data directory):

- ``close_s``: ``POST /close``'s work (settle, final rows, summary) on the loaded table, as the
  server does it now: the settlement comes from the estimator's running ledger and the finished
  state is kept as a state capture a forked child writes in the background (``close_capture_s``:
  how long after the close it was stored). The baseline (``close_baseline_s``) is the close before
  these changes: settling by re-reading and decoding the whole log, and a JSON snapshot of every
  row written before it returns (``close_snapshot_s``: that snapshot alone, written again after
  the close). Each is measured on its own copy of the table, loaded the same way (the whole log
  replayed), interleaved A, B, A, B (``--repeat``); ``close_ratio`` = baseline / new, of medians.
- ``export_final_s``: ``GET /api/tables/{id}/export/final.csv`` of the closed table from a real
  server subprocess that has not loaded it (the rows stream from the store); ``export_ratio``
  compares, in this process, the rows-to-CSV work of the old body (all rows built under the lock,
  one piece per row) with the new one (rows from the store in chunks, pieces of 64 KB).

And ``tables_1000_start_s`` / ``tables_1000_rss_mb``: a real server subprocess started on a data
directory with 1000 tables (a few live, most closed, the rest live but unloaded while idle), until
``GET /api/tables`` lists them all, and its resident memory then.

Usage: ``python bench/scale_lifecycle.py [--quick] [--sizes 100000,1000000] [--repeat N]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bigtable import build_table
from bench.load import SECRET, TOKEN, free_port, launch
from bench.quiet import Quiet
from crowdfill.compensation import Settlement, settle
from crowdfill.model import Fill
from crowdfill.model.codec import operation_from_wire
from crowdfill.model.snapshot import snapshot
from crowdfill.server import exports
from crowdfill.server.definition import spec_from_json
from crowdfill.server.export_source import export_rows
from crowdfill.server.owner import CLOSED, COMPLETE, LIVE, TableOwner
from crowdfill.server.settings import Settings
from crowdfill.server.tables import Tables
from crowdfill.server.views import plain_rows
from crowdfill.store import SQLiteStore
from crowdfill.store.factory import DEFAULT_SQLITE_NAME, open_store
from crowdfill.wire.definition import DefinitionModel

SETTINGS = Settings(requester_token=TOKEN, secret=SECRET, idle_unload_seconds=0)


class _TodaysClose(TableOwner):
    """The owner as it closed before: the whole log read, decoded and settled again, and a JSON
    snapshot of every row written before the close returns."""

    async def _keep_final_state(self) -> None:
        await self._save_snapshot()

    async def _settle(self, *, persist: bool) -> Settlement:
        log = await self._store.read_log(self.table_id)
        completed = self.status == COMPLETE
        counted = [r for r in log if self.end_seq is None or r.seq <= self.end_seq]
        settlement = settle(
            self.table,
            [operation_from_wire(r.operation) for r in counted],
            self.spec.compensation,
            completed=completed,
        )
        self.estimator.conclude(completed=completed)
        if persist:
            await self._store.put_item(self.table_id, "settlement", "final", settlement.to_dict())
        return settlement


async def _close_once(data_dir: Path, table_id: str, todays: bool) -> tuple[float, float, float, float]:
    """(load, close, snapshot, capture) seconds of the table in ``data_dir``, closed by the new or
    today's path. The snapshot is today's final snapshot of every row, measured again after the
    close; the capture is how long the new close's background capture took to be stored after it."""
    store = open_store(None, data_dir)
    await store.open()
    try:
        record = await store.get_table(table_id)
        assert record is not None
        kind = _TodaysClose if todays else TableOwner
        owner = kind(table_id, spec_from_json(record.definition), LIVE, store, SETTINGS, Quiet())
        started = time.perf_counter()
        await owner.load()
        loaded = time.perf_counter()
        await owner.close()
        closed = time.perf_counter()
        await owner._capturer.wait()  # the new close's capture, taken in the background
        captured = time.perf_counter()
        await store.save_snapshot(table_id, owner.seq, snapshot(owner.table))
        snapshotted = time.perf_counter()
        await owner.stop()
        return loaded - started, closed - loaded, snapshotted - captured, captured - closed
    finally:
        await store.close()


async def _old_body(data_dir: Path, table_id: str) -> float:
    """Seconds for the export body as it was: every row built under the lock, one piece per row."""
    store = open_store(None, data_dir)
    await store.open()
    try:
        tables = Tables(store, SETTINGS, Quiet())
        owner = await tables.owner(table_id)
        assert owner is not None
        columns = list(owner.spec.schema.names)
        started = time.perf_counter()
        async with owner.lock:
            rows = plain_rows(owner.table, final=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:  # the old csv_lines: one csv line, one piece (one ASGI send), per row
            buffer.seek(0)
            buffer.truncate(0)
            values = row["values"]
            writer.writerow([row["row_id"], *(values.get(c, "") for c in columns)])
            _ = buffer.getvalue()
            await asyncio.sleep(0)
        elapsed = time.perf_counter() - started
        await tables.shutdown()
        return elapsed
    finally:
        await store.close()


async def _new_body(data_dir: Path, table_id: str) -> float:
    """Seconds for today's export body of a finished table nobody loaded: chunks from the store."""
    store = open_store(None, data_dir)
    await store.open()
    try:
        tables = Tables(store, SETTINGS, Quiet())
        record = await tables.record(table_id)
        columns = [c["name"] for c in record.definition["schema"]["columns"]]
        started = time.perf_counter()
        rows: AsyncIterator[dict[str, Any]] = await export_rows(tables, record, "final")
        async for _piece in exports.csv_lines(rows, columns, "final"):
            await asyncio.sleep(0)  # one ASGI send per piece
        elapsed = time.perf_counter() - started
        assert tables.loaded(table_id) is None
        return elapsed
    finally:
        await store.close()


def _http_export(data_dir: Path, table_id: str, repeat: int) -> tuple[float, int]:
    port = free_port()
    process = launch(_serve_command(port, data_dir), port, data_dir / "server.log", "server")
    try:
        samples = []
        size = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=_headers(), timeout=600) as http:
            for _ in range(repeat):
                started = time.perf_counter()
                response = http.get(f"/api/tables/{table_id}/export/final.csv")
                response.raise_for_status()
                samples.append(time.perf_counter() - started)
                size = len(response.content)
        return statistics.median(samples), size
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_size(root: Path, ops: int, repeat: int) -> dict[str, Any]:
    built = root / f"built-{ops}"
    started = time.perf_counter()
    table_id = build_table(built, ops)
    build_s = time.perf_counter() - started
    new_close: list[float] = []
    old_close: list[float] = []
    loads: list[float] = []
    snapshots: list[float] = []
    captures: list[float] = []
    closed_dir = root / f"closed-{ops}"
    for index in range(repeat):
        for todays in (False, True):  # interleaved: A, B, A, B
            copy = root / f"copy-{ops}-{index}-{int(todays)}"
            shutil.copytree(built, copy)
            load_s, close_s, snapshot_s, capture_s = asyncio.run(_close_once(copy, table_id, todays))
            loads.append(load_s)
            snapshots.append(snapshot_s)
            if not todays:
                captures.append(capture_s)
            (old_close if todays else new_close).append(close_s)
            if not todays and not closed_dir.exists():
                copy.rename(closed_dir)
            else:
                shutil.rmtree(copy)
    old_bodies, new_bodies = [], []
    for _ in range(max(5, repeat)):  # cheap, and noisy on a shared machine: at least five pairs
        old_bodies.append(asyncio.run(_old_body(closed_dir, table_id)))
        new_bodies.append(asyncio.run(_new_body(closed_dir, table_id)))
    export_s, export_bytes = _http_export(closed_dir, table_id, max(3, repeat))
    close_s, baseline_s = statistics.median(new_close), statistics.median(old_close)
    return {
        "ops": ops,
        "build_s": round(build_s, 2),
        "load_s": round(statistics.median(loads), 2),
        "close_s": round(close_s, 3),
        "close_baseline_s": round(baseline_s, 3),
        "close_ratio": round(baseline_s / close_s, 2),
        "close_snapshot_s": round(statistics.median(snapshots), 3),
        "close_capture_s": round(statistics.median(captures), 3),
        "export_final_s": round(export_s, 3),
        "export_bytes": export_bytes,
        "export_body_s": round(statistics.median(new_bodies), 3),
        "export_body_baseline_s": round(statistics.median(old_bodies), 3),
        "export_ratio": round(statistics.median(old_bodies) / statistics.median(new_bodies), 2),
    }


# ---------------------------------------------------------------------- many tables
SMALL: dict[str, Any] = {
    "name": "small",
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
    "scoring": {"family": "threshold", "min_votes": 2},  # as in docs/benchmarks.md's figures
    "template": [{"country": "never"}, {}, {}, {}],
    "budget_cents": 100,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}


async def _many_tables(data_dir: Path, count: int, live: int, idle: int) -> None:
    """``count`` small tables: ``live`` live, ``idle`` live but unloaded while idle, the rest closed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Building only: no fsync per commit (the server reopens the file with its own settings).
    store = SQLiteStore(data_dir / DEFAULT_SQLITE_NAME, synchronous="OFF")
    await store.open()
    tables = Tables(store, SETTINGS, Quiet())
    try:
        for index in range(count):
            record = await tables.create(DefinitionModel.model_validate({**SMALL, "name": f"t{index}"}))
            await tables.launch(record.table_id)
            owner = await tables.owner(record.table_id)
            assert owner is not None
            empty = [row.row_id for row in owner.table.rows() if not row.values]
            for n, row_id in enumerate(empty):
                await owner.submit(Fill(f"w{n}", row_id, f"r{index}x{n}", "country", f"c{n}", frozenset()))
            if index < live:
                continue
            if index < live + idle:
                assert await tables.unload(record.table_id, unused_since=float("inf"))
            else:
                await tables.close(record.table_id)
                await tables.unload(record.table_id, unused_since=float("inf"))
    finally:
        await tables.shutdown()
        await store.close()


def _start(data_dir: Path) -> tuple[float, float, list[dict[str, Any]]]:
    """(seconds from launch until ``GET /api/tables`` answers, RSS in MB then, the tables listed)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    started = time.perf_counter()
    process = launch(_serve_command(port, data_dir), port, data_dir / "server.log", "server")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=_headers(), timeout=600) as http:
            listed = http.get("/api/tables")
            listed.raise_for_status()
            start_s = time.perf_counter() - started
        rss_mb = psutil.Process(process.pid).memory_info().rss / 2**20
        tables: list[dict[str, Any]] = listed.json()["tables"]
        return start_s, rss_mb, tables
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_many(root: Path, count: int, repeat: int) -> dict[str, Any]:
    data_dir = root / "many"
    live, idle = 5, count // 10
    started = time.perf_counter()
    asyncio.run(_many_tables(data_dir, count, live, idle))
    build_s = time.perf_counter() - started
    # The same server on an empty data directory, interleaved: what starting costs with no tables.
    many_s, many_mb, empty_s, empty_mb = [], [], [], []
    for index in range(repeat):
        start_s, rss_mb, tables = _start(data_dir)
        many_s.append(start_s)
        many_mb.append(rss_mb)
        start_s, rss_mb, _ = _start(root / f"empty-{index}")
        empty_s.append(start_s)
        empty_mb.append(rss_mb)
    assert len(tables) == count, len(tables)
    statuses = {s: sum(1 for t in tables if t["status"] == s) for s in (LIVE, CLOSED)}
    return {
        "tables": count,
        "live": statuses[LIVE],
        "loaded_at_start": live,
        "closed": statuses[CLOSED],
        "build_s": round(build_s, 2),
        "start_s": round(statistics.median(many_s), 3),
        "rss_mb": round(statistics.median(many_mb), 1),
        "empty_start_s": round(statistics.median(empty_s), 3),
        "empty_rss_mb": round(statistics.median(empty_mb), 1),
    }


def _serve_command(port: int, data_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
        "--requester-token", TOKEN, "--secret", SECRET, "--log-level", "warning",
    ]  # fmt: skip


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for make bench")
    parser.add_argument("--sizes", help="comma-separated logged-operation counts (default 100000,1000000)")
    parser.add_argument("--repeat", type=int, default=None, help="samples per figure (default 1; quick 2)")
    parser.add_argument(
        "--tables", type=int, default=None, help="tables for the startup figure (default 1000)"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the data goes (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    if sizes is None:
        sizes = [2000, 10_000] if args.quick else [100_000, 1_000_000]
    repeat = args.repeat or (2 if args.quick else 1)
    count = args.tables or (100 if args.quick else 1000)
    results: dict[str, Any] = {"benchmark": "scale_lifecycle", "quick": args.quick, "repeat": repeat}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="crowdfill-scale-") as directory:
        root = Path(directory)
        for ops in sizes:
            figures = measure_size(root, ops, repeat)
            print(json.dumps(figures), flush=True)
            results[str(ops)] = figures
        many = measure_many(root, count, repeat)
        print(json.dumps(many), flush=True)
    results["sizes"] = sizes
    results["close_s"] = {str(ops): results[str(ops)]["close_s"] for ops in sizes}
    results["close_ratio"] = {str(ops): results[str(ops)]["close_ratio"] for ops in sizes}
    results["export_final_s"] = {str(ops): results[str(ops)]["export_final_s"] for ops in sizes}
    results["export_ratio"] = {str(ops): results[str(ops)]["export_ratio"] for ops in sizes}
    results["tables_count"] = many["tables"]
    results["tables_1000_start_s"] = many["start_s"]
    results["tables_1000_rss_mb"] = many["rss_mb"]
    results["empty_start_s"] = many["empty_start_s"]
    results["empty_rss_mb"] = many["empty_rss_mb"]
    results["ratio_means"] = (
        "close_ratio: close settling from the whole log (today's path) over close from the running "
        "ledger, medians; export_ratio: the old export body over the streamed one, medians"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
