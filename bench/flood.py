"""One flooding worker beside honest ones: does the edge keep honest latency and server memory flat?

Each run starts a fresh ``crowdfill serve`` (SQLite, the server's default limits) with a live table,
10 honest workers at 1 op/s (``bench/load.py``'s client process) and, in the flooded runs, one
more worker in its own process sending as fast as it can with up to ``--window`` operations in
flight: for the first half of the measured window *valid* operations (fills of the cells it sees
empty, sent with an honest ``seen_seq``, and re-fills of a row it replaced itself, the stale-row
flood), for the second half *invalid* ones (malformed messages, which get the connection dropped,
after which it reconnects and goes on, and well-formed fills of unknown rows).

Runs alternate A (honest only), B (honest + flood), A, B, ...; ``honest_p99_ratio`` (goal <= 2.0)
is the median over the B runs of the honest workers' acknowledgement p99 over the median over the
A runs (``pair_ratios`` has each pair's own ratio: on a busy machine a single run's p99, about
the second-slowest of ~100 acknowledgements, is mostly noise). ``rss_growth_mb`` (goal <= 50)
is the server's RSS two seconds after the flood stopped minus its RSS just before the load
started, median over the B runs.

Usage: ``python bench/flood.py [--quick] [--pairs N] [--duration S]``. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import socketio

# bench/ is not installed; run as a script, the sibling benchmark is importable from the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import load

HONEST = 10
HONEST_RATE = 1.0
SETTLE_SECONDS = 2.0


# ---------------------------------------------------------------------------------------- flooder
async def flood(config: dict[str, Any]) -> dict[str, Any]:
    """The flooding worker: valid operations as fast as it can, then invalid ones."""
    counts: collections.Counter[str] = collections.Counter()
    base_url, token = config["base_url"], config["token"]
    worker = await _join(base_url, token, counts)
    # Its own fill of a row: the row it will keep re-filling (the stale-row flood).
    stale = next(r for r, v in worker.rows.items() if v.get("c0") != load.NEVER and not v)
    ack = await worker.sio.call(
        "fill",
        {"row_id": stale, "column": "c1", "value": "first", "seen_seq": worker.seen_seq},
        namespace="/worker",
        timeout=30,
    )
    assert ack.get("ok"), ack
    worker.apply(ack["op"])
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = float(line.split()[1])
    begin, end = start + config["warmup"], start + config["duration"]
    switch = (begin + end) / 2
    await asyncio.sleep(max(0.0, begin - time.time()))
    rng = random.Random(7)
    inflight = asyncio.Semaphore(config["window"])
    tasks: set[asyncio.Task[None]] = set()
    sent = 0

    async def one(sio: socketio.AsyncClient, kind: str, payload: Any) -> None:
        try:
            answer = await sio.call(kind, payload, namespace="/worker", timeout=10)
        except socketio.exceptions.SocketIOError:
            counts["lost"] += 1
        else:
            if isinstance(answer, dict) and answer.get("ok"):
                counts["accepted"] += 1
                worker.apply(answer["op"])
                worker.note(int(answer["seq"]))
            else:
                counts[str(answer.get("error", {}).get("code")) if isinstance(answer, dict) else "odd"] += 1
        finally:
            inflight.release()

    while time.time() < end:
        if not worker.sio.connected:
            counts["reconnects"] += 1
            worker = await _join(base_url, token, counts)
        await inflight.acquire()
        sent += 1
        kind, payload = _next_operation(worker, stale, rng, sent, valid=time.time() < switch)
        task = asyncio.get_running_loop().create_task(one(worker.sio, kind, payload))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    with contextlib.suppress(socketio.exceptions.SocketIOError):
        await worker.sio.disconnect()
    # The flooder's own CPU: on a small shared machine it competes with the server for the cores.
    return {"sent": sent, "cpu_s": round(time.process_time(), 2), **counts}


def _next_operation(
    worker: load.Worker, stale: str, rng: random.Random, n: int, *, valid: bool
) -> tuple[str, dict[str, Any]]:
    seen = worker.seen_seq
    if valid:
        if n % 2:
            return "fill", {"row_id": stale, "column": "c2", "value": f"again-{n}", "seen_seq": 0}
        choice = worker.choose(rng)
        if choice is not None:
            return choice
        return "fill", {"row_id": stale, "column": "c2", "value": f"again-{n}", "seen_seq": seen}
    if n % 2:
        return "fill", {"row_id": 7, "column": ["c0"]}  # malformed: counts towards the disconnect
    return "fill", {"row_id": f"ghost-{n}", "column": "c0", "value": "x", "seen_seq": seen}


async def _join(base_url: str, token: str, counts: collections.Counter[str]) -> load.Worker:
    stats: dict[str, Any] = {"received": 0, "seen_ms": []}
    worker = load.Worker("flood", token, stats, observe=False)
    while True:
        try:
            await worker.connect(base_url)
            return worker
        except (socketio.exceptions.SocketIOError, TimeoutError):
            counts["connect_failed"] += 1
            await asyncio.sleep(0.05)
            worker = load.Worker("flood", token, stats, observe=False)


# ---------------------------------------------------------------------------------------- driver
def run_once(flooded: bool, args: argparse.Namespace, root: Path, index: int) -> dict[str, Any]:
    port = load.free_port()
    data_dir = root / f"run{index}"
    data_dir.mkdir()
    server = load.start_server("durable", port, data_dir)
    base_url = f"http://127.0.0.1:{port}"
    children: list[subprocess.Popen[str]] = []
    try:
        # Enough empty rows for the honest fills and for the flooder's accepted ones.
        table_id, tokens = load.prepare_table(base_url, HONEST + 1, 2 * HONEST_RATE, args.duration)
        honest_config = {
            "index": 0, "tokens": tokens[:HONEST], "base_url": base_url, "rate": HONEST_RATE,
            "duration": args.duration, "warmup": args.warmup, "observers": 0,
        }  # fmt: skip
        children.append(_spawn([str(Path(load.__file__)), "--client", json.dumps(honest_config)]))
        if flooded:
            flood_config = {
                "token": tokens[HONEST], "base_url": base_url, "duration": args.duration,
                "warmup": args.warmup, "window": args.window,
            }  # fmt: skip
            children.append(_spawn([__file__, "--flooder", json.dumps(flood_config)]))
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"a client process failed to start ({line!r})")
        monitored = psutil.Process(server.pid)
        rss_before = monitored.memory_info().rss
        cpu_before = monitored.cpu_times()
        peak = rss_before
        start = time.time() + 0.5
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"GO {start}\n")
            child.stdin.flush()
        while time.time() < start + args.duration:
            time.sleep(0.25)
            peak = max(peak, monitored.memory_info().rss)
        cpu_after = monitored.cpu_times()
        outputs = [
            json.loads(child.communicate(timeout=120)[0].strip().splitlines()[-1]) for child in children
        ]
        time.sleep(SETTLE_SECONDS)
        rss_after = monitored.memory_info().rss
        logged = _ops_by_worker(base_url, table_id)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    honest = outputs[0]
    result: dict[str, Any] = {
        "flooded": flooded,
        "honest_acked": honest["acked"],
        "honest_refused": honest["refused"],
        "honest_errors": honest["errors"],
        "honest_p50_ms": load._percentile(honest["ack_ms"], 50),
        "honest_p99_ms": load._percentile(honest["ack_ms"], 99),
        "honest_ack_ms": honest["ack_ms"],
        "server_cpu_percent": round(100 * _cpu(cpu_after, cpu_before) / (args.duration + 0.5), 1),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "rss_peak_growth_mb": round((peak - rss_before) / 2**20, 1),
    }
    if flooded:
        # Acks in flight when the flooder is disconnected are lost: the log says what it got in.
        result["flood"] = {**outputs[1], "in_log": logged.get(f"load-{HONEST}", 0)}
    return result


def _ops_by_worker(base_url: str, table_id: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {load.TOKEN}"}
    response = httpx.get(f"{base_url}/api/tables/{table_id}/workers", headers=headers, timeout=60)
    response.raise_for_status()
    return {str(w["worker_id"]): int(w["ops"]) for w in response.json()["workers"]}


def _cpu(after: Any, before: Any) -> float:
    return float((after.user + after.system) - (before.user + before.system))


def _spawn(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top and bottom else None


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 pairs of short runs (under a minute)")
    parser.add_argument("--pairs", type=int, help="A/B pairs (default 3, quick 2)")
    parser.add_argument("--duration", type=float, help="seconds of load per run (default 15, quick 6)")
    parser.add_argument("--warmup", type=float, help="seconds not measured (default 2, quick 1)")
    parser.add_argument("--window", type=int, default=64, help="the flooder's operations in flight")
    parser.add_argument("--flooder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flooder:
        print(json.dumps(asyncio.run(flood(json.loads(args.flooder)))), flush=True)
        return
    args.pairs = args.pairs or (2 if args.quick else 3)
    args.duration = args.duration or (6.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="crowdfill-flood-") as root:
        for _ in range(args.pairs):
            for flooded in (False, True):
                result = run_once(flooded, args, Path(root), len(runs))
                runs.append(result)
                shown = {k: v for k, v in result.items() if k != "honest_ack_ms"}
                print(f"{'B flood' if flooded else 'A quiet'} {json.dumps(shown)}", flush=True)
    quiet = [r for r in runs if not r["flooded"]]
    flooded_runs = [r for r in runs if r["flooded"]]
    ratios = [
        round(b["honest_p99_ms"] / a["honest_p99_ms"], 3)
        if a["honest_p99_ms"] and b["honest_p99_ms"]
        else None
        for a, b in zip(quiet, flooded_runs, strict=True)
    ]
    summary: dict[str, Any] = {
        "bench": "flood",
        "quick": args.quick,
        "pairs": args.pairs,
        "honest_workers": HONEST,
        "honest_rate_per_worker": HONEST_RATE,
        "duration_s": args.duration,
        "honest_p99_ms_quiet": _median([r["honest_p99_ms"] for r in quiet]),
        "honest_p99_ms_flooded": _median([r["honest_p99_ms"] for r in flooded_runs]),
        "honest_p50_ms_quiet": _median([r["honest_p50_ms"] for r in quiet]),
        "honest_p50_ms_flooded": _median([r["honest_p50_ms"] for r in flooded_runs]),
        "flood_sent": _median([r["flood"]["sent"] for r in flooded_runs]),
        "flood_accepted": _median([r["flood"]["in_log"] for r in flooded_runs]),
        "flood_reconnects": _median([r["flood"].get("reconnects", 0) for r in flooded_runs]),
        "server_cpu_percent_quiet": _median([r["server_cpu_percent"] for r in quiet]),
        "server_cpu_percent_flooded": _median([r["server_cpu_percent"] for r in flooded_runs]),
        "rss_growth_mb_quiet": _median([r["rss_growth_mb"] for r in quiet]),
        "pair_ratios": ratios,
        # Every honest acknowledgement of a kind of run together (a second view of the same tail).
        "honest_p99_ratio_pooled": _ratio(
            load._percentile([x for r in flooded_runs for x in r["honest_ack_ms"]], 99),
            load._percentile([x for r in quiet for x in r["honest_ack_ms"]], 99),
        ),
        "honest_p99_ratio": _ratio(
            _median([r["honest_p99_ms"] for r in flooded_runs]), _median([r["honest_p99_ms"] for r in quiet])
        ),
        "rss_growth_mb": _median([r["rss_growth_mb"] for r in flooded_runs]),
    }
    summary["ratio"] = summary["honest_p99_ratio"]
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
