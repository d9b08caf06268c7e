"""Restarting a big table: from a state capture plus its log tail vs replaying the whole log.

For each size (100k and 1M logged operations; ``--quick``: 100k only) a live table is built with
``bench/bigtable.py`` in a SQLite data directory. A state capture is then taken as the server
takes one, but ``TAIL`` operations before the end of the log (a restart finds, on average, half a
capture interval of log after the last capture), and stored in a copy of the data directory.
Then, interleaved A, B, A, B: a real ``crowdfill serve`` subprocess starts on the directory
without a capture (A: the whole log replayed into a fresh table, which is linear since the replay
draws the central client's ids from the log) and on the one with it (B); each run is timed from
the spawn until ``GET /api/tables/{id}/matching`` answers with the table's last seq, and the
server's RSS is read (psutil) at that moment. Medians are reported.

Usage: ``python bench/scale.py [--quick] [--sizes 100000,1000000] [--cache DIR]`` (``--cache``
keeps built tables between runs). The last line printed is one JSON object: per size,
``restart_s`` (and its ``restart_samples_s``), ``rss_mb`` and ``restart_cpu_s`` (the server's CPU
seconds until it serves) with the capture, ``estimates_s`` (until every worker's live estimate is
answered too: the estimator's share of the tail is done while the table serves), the same with
``replay_`` for today's path, ``restart_ratio`` = replay_restart_s / restart_s and
``restart_cpu_ratio`` likewise for CPU seconds (less disturbed by other load);
``clean_restart_s``, ``clean_restart_cpu_s`` and ``clean_rss_mb`` for a restart after a clean
stop (a server is started and stopped once on a copy first, ``stop_run_s``: the stop captured the
table at its last seq, so these restarts replay nothing); ``restore_bytes_per_op`` (resident memory
an in-process restore adds, per logged operation, once its estimator is loaded and caught up),
``capture_load_s`` and ``estimator_load_s`` (the capture's second pickle, loaded once the table
serves) from ``bench/restore_memory.py``, with ``baseline_`` figures and ``restore_memory_ratio``
(baseline / this) when ``--baseline-code DIR`` names another checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.bigtable import build_table
from bench.load import free_port
from bench.quiet import Quiet
from bench.restore_memory import run as restore_memory
from bench.scale_lifecycle import measure_many, measure_size
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import TableOwner
from crowdfill.server.recovery import _replay_tail as replay_tail
from crowdfill.server.recovery import capture_bytes
from crowdfill.server.settings import Settings
from crowdfill.store import SQLiteStore

TOKEN = "bench-requester-token"  # noqa: S105  # a throwaway token for a local benchmark server
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105  # same: local benchmark only
TAIL = 5000  # log operations after the capture: half of the default capture interval
DB = "crowdfill.sqlite3"


async def store_capture(data_dir: Path, table_id: str, tail: int) -> int:
    """Replay the log up to ``last - tail`` in this process, capture the state as the server does, store it.

    The replay is the one a restart applies to a log tail (``recovery``), from an empty table.
    """
    store = SQLiteStore(data_dir / DB)
    await store.open()
    try:
        record = await store.get_table(table_id)
        assert record is not None
        seq = max(0, await store.last_seq(table_id) - tail)
        settings = Settings(requester_token=TOKEN, secret=SECRET)
        spec = spec_from_json(record.definition)
        owner = TableOwner(table_id, spec, record.status, store, settings, Quiet())
        owner.sequencer.start()
        replay_tail(owner, await store.read_log(table_id, limit=seq), 0)
        owner.seq = seq
        await store.save_capture(table_id, owner.seq, capture_bytes(owner))
        return owner.seq
    finally:
        await store.close()


def restart(
    data_dir: Path, table_id: str, last_seq: int, capture_on_stop: bool = False
) -> tuple[float, float, float, float]:
    """Seconds from spawning ``crowdfill serve`` until the table answers at ``last_seq``; the server's
    RSS (MB) and CPU seconds (user + system, less disturbed by other load than the wall clock) then;
    and seconds from the spawn until ``GET /compensation`` (every worker's live estimate) answered
    right after (a restart from a capture does the estimator's share of the log tail while the
    table serves, docs/scale.md: this is when the estimates are there).

    The server takes no capture (``--capture-every 0``, so every run starts from the same data),
    unless ``capture_on_stop``: then it runs with the default captures and is stopped cleanly,
    which captures the table at its last seq (what a restart after a clean stop starts from)."""
    port = free_port()
    command = [
        sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
        "--requester-token", TOKEN, "--secret", SECRET, "--log-level", "warning",
    ]  # fmt: skip
    if not capture_on_stop:
        command += ["--capture-every", "0"]
    log = (data_dir / "server.log").open("ab")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api/tables/{table_id}/matching"
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600) as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with {process.returncode}; see {data_dir / 'server.log'}"
                    )
                try:
                    response = http.get(url)
                except httpx.TransportError:
                    time.sleep(0.02)
                    continue
                if response.status_code == 200 and response.json()["seq"] == last_seq:
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            server = psutil.Process(process.pid)
            rss = server.memory_info().rss / 1e6
            times = server.cpu_times()
            cpu = times.user + times.system
            estimates = http.get(f"http://127.0.0.1:{port}/api/tables/{table_id}/compensation")
            estimates.raise_for_status()
            estimates_s = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(600 if capture_on_stop else 30)
        log.close()
    return elapsed, rss, cpu, estimates_s


def stop_with_capture(data_dir: Path, table_id: str, last_seq: int) -> float:
    """Start the server on ``data_dir``, stop it cleanly (it captures the table at ``last_seq``);
    seconds from its spawn until it exited (start, serve, capture, exit)."""
    started = time.perf_counter()
    restart(data_dir, table_id, last_seq, capture_on_stop=True)
    elapsed = time.perf_counter() - started
    store = SQLiteStore(data_dir / DB)

    async def captured_seq() -> int | None:
        await store.open()
        try:
            saved = await store.load_capture(table_id)
            return None if saved is None else saved[0]
        finally:
            await store.close()

    seq = asyncio.run(captured_seq())
    if seq != last_seq:
        raise RuntimeError(f"the clean stop left a capture at seq {seq}, not {last_seq}")
    return elapsed


def prepare(size: int, root: Path, cache: Path | None) -> tuple[Path, Path, str, int, int]:
    """(dir without capture, dir with capture, table id, last seq, capture seq) for ``size``."""
    built = (cache or root) / f"bigtable-{size}"
    if not (built / DB).exists():
        build_table(built, size)
    table_id = f"big-{size}-s0"
    replay_dir, capture_dir = root / f"replay-{size}", root / f"capture-{size}"
    for target in (replay_dir, capture_dir):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy(built / DB, target / DB)
    capture_seq = asyncio.run(store_capture(capture_dir, table_id, TAIL))
    return replay_dir, capture_dir, table_id, size, capture_seq


def measure(
    size: int, root: Path, cache: Path | None, rounds: int, baseline: bool, code: Path | None = None
) -> dict[str, Any]:
    replay_dir, capture_dir, table_id, last_seq, capture_seq = prepare(size, root, cache)
    clean_dir = root / f"clean-{size}"
    shutil.rmtree(clean_dir, ignore_errors=True)
    shutil.copytree(capture_dir, clean_dir)
    stop_run_s = stop_with_capture(clean_dir, table_id, last_seq)
    replays: list[tuple[float, float, float, float]] = []
    captures: list[tuple[float, float, float, float]] = []
    cleans: list[tuple[float, float, float, float]] = []
    for _ in range(rounds):  # interleaved: A, B, C, A, B, C
        if baseline:
            replays.append(restart(replay_dir, table_id, last_seq))
        captures.append(restart(capture_dir, table_id, last_seq))
        cleans.append(restart(clean_dir, table_id, last_seq))
    capture_mb = (capture_dir / DB).stat().st_size / 1e6 - (replay_dir / DB).stat().st_size / 1e6
    replays = replays or [(math.nan, math.nan, math.nan, math.nan)]
    restart_s = statistics.median(t for t, _, _, _ in captures)
    replay_s = statistics.median(t for t, _, _, _ in replays)
    restart_cpu = statistics.median(c for _, _, c, _ in captures)
    replay_cpu = statistics.median(c for _, _, c, _ in replays)
    result: dict[str, Any] = {
        "ops": size,
        "tail_ops": last_seq - capture_seq,
        "restart_s": round(restart_s, 2),
        "rss_mb": round(statistics.median(r for _, r, _, _ in captures), 1),
        "restart_cpu_s": round(restart_cpu, 2),
        "restart_samples_s": [round(t, 2) for t, _, _, _ in captures],
        "estimates_s": round(statistics.median(e for _, _, _, e in captures), 2),
        "replay_restart_s": round(replay_s, 2),
        "replay_rss_mb": round(statistics.median(r for _, r, _, _ in replays), 1),
        "replay_restart_cpu_s": round(replay_cpu, 2),
        "restart_ratio": round(replay_s / restart_s, 2),
        "restart_cpu_ratio": round(replay_cpu / restart_cpu, 2),
        "capture_file_mb": round(capture_mb, 1),
        # After a clean stop (the server captured the table at its last seq): no tail to replay.
        "clean_restart_s": round(statistics.median(t for t, _, _, _ in cleans), 2),
        "clean_restart_cpu_s": round(statistics.median(c for _, _, c, _ in cleans), 2),
        "clean_rss_mb": round(statistics.median(r for _, r, _, _ in cleans), 1),
        "stop_run_s": round(stop_run_s, 2),
    }
    # Memory after an in-process restore (bench/restore_memory.py), and the same with a baseline
    # checkout's code on the same data when --baseline-code names one (interleaved).
    memory = [restore_memory(replay_dir, table_id, TAIL, walk_it=False)]
    if code is not None:
        memory.append(restore_memory(replay_dir, table_id, TAIL, walk_it=False, code=code))
    result["restore_bytes_per_op"] = memory[0]["rss_bytes_per_op"]
    result["capture_load_s"] = memory[0]["capture_load_s"]
    result["estimator_load_s"] = memory[0].get("estimator_load_s")
    if code is not None:
        result["baseline_restore_bytes_per_op"] = memory[1]["rss_bytes_per_op"]
        result["baseline_capture_load_s"] = memory[1]["capture_load_s"]
        result["restore_memory_ratio"] = round(
            memory[1]["rss_bytes_per_op"] / memory[0]["rss_bytes_per_op"], 2
        )
    if not baseline:  # not measured: say so rather than print NaN (which is not JSON)
        result.update(
            dict.fromkeys(
                k for k in result if k.startswith(("replay_", "restart_ratio", "restart_cpu_ratio"))
            )
        )
    print(f"{size:>8} ops: {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100k operations only, one round")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (default 100000,1000000)")
    parser.add_argument("--rounds", type=int, default=None, help="A/B rounds per size (default 2, quick 1)")
    parser.add_argument(
        "--no-baseline-above",
        type=int,
        default=None,
        help="skip today's full-replay restart for sizes above this (it takes hours at 1M on 2 busy cores)",
    )
    parser.add_argument(
        "--baseline-code",
        type=Path,
        default=None,
        help="another checkout whose in-memory representation to measure on the same data (A/B)",
    )
    parser.add_argument("--cache", type=Path, default=None, help="keep built tables here between runs")
    parser.add_argument(
        "--no-lifecycle",
        action="store_true",
        help="skip close, export and the many-tables start (bench/scale_lifecycle.py's figures)",
    )
    parser.add_argument(
        "--tables", type=int, default=None, help="tables for the startup figure (default 1000)"
    )
    args = parser.parse_args()
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([100_000] if args.quick else [100_000, 1_000_000])
    )
    rounds = args.rounds or (1 if args.quick else 2)
    with tempfile.TemporaryDirectory(prefix="crowdfill-scale-") as directory:
        results = {
            str(size): measure(
                size,
                Path(directory),
                args.cache,
                rounds,
                args.no_baseline_above is None or size <= args.no_baseline_above,
                args.baseline_code,
            )
            for size in sizes
        }
        many: dict[str, Any] = {}
        if not args.no_lifecycle:
            # Close, export and the many-tables start (bench/scale_lifecycle.py), on tables of their own.
            for size in sizes:
                figures = measure_size(Path(directory), size, 1)
                results[str(size)].update(
                    {
                        key: figures[key]
                        for key in (
                            "close_s",
                            "close_baseline_s",
                            "close_ratio",
                            "close_capture_s",
                            "close_snapshot_s",
                            "load_s",
                            "export_final_s",
                            "export_ratio",
                        )
                    }
                )
            many = measure_many(Path(directory), args.tables or (100 if args.quick else 1000), 1)
    print(
        json.dumps(
            {
                "benchmark": "scale",
                "quick": args.quick,
                "rounds": rounds,
                "sizes": results,
                "tables_count": many.get("tables"),
                "tables_1000_start_s": many.get("start_s"),
                "tables_1000_rss_mb": many.get("rss_mb"),
                "ratio_means": "restart_ratio = seconds to serve after replaying the whole log (today's path)"
                " over seconds to serve from a state capture plus its log tail; close_ratio and"
                " export_ratio: the old close (settled from the whole log, JSON snapshot of every"
                " row) and export body over the new; load_s: the full-log replay loading the table",
            }
        )
    )


if __name__ == "__main__":
    main()
