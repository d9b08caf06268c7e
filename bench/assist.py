"""The model in the loop under live load: bench/load.py's workload with the assistant on vs off.

Two durable servers (``crowdfill serve`` on SQLite) in the same run, under the same N worker
clients: one plain, one with ``--assistant vader`` predicting column c1 from c0 for every row a
fill completes and suggesting c1 for rows that lack it. The model runs beside the table owner, so
workers should see each other's fills about as fast with it as without: ``seen_p99_ratio`` is the
fill-to-seen p99 with the assistant over without (goal <= 1.2). ``model_calls_per_s`` is the
model's answers per second, counted as the Annotate operations in the assisted server's log.

Usage: ``python bench/assist.py [--quick] [--workers N] [--rate R] [--duration S]``. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import load
from crowdfill.store import open_store

ASSISTANT_ARGS = [
    "--assistant", "vader",
    "--assistant-option", "text_column=c0", "--assistant-option", "label_column=c1",
    "--assistant-predict", "c1", "--assistant-suggest",
]  # fmt: skip

_plain_start = load.start_server


def _assisted_start(mode: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """bench/load.py's durable server, with the assistant on."""
    command = [
        sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port),
        "--data-dir", str(data_dir), "--requester-token", load.TOKEN, "--secret", load.SECRET,
        "--log-level", "warning", *ASSISTANT_ARGS,
    ]  # fmt: skip
    return load.launch(command, port, data_dir / f"{mode}.log", "the assisted server")


async def _annotations(data_dir: Path) -> tuple[int, float]:
    """Annotate operations in the server's log and the seconds between the first and last."""
    store = open_store(None, data_dir)
    await store.open()
    try:
        times: list[float] = []
        for record in await store.list_tables():
            times += [
                r.at for r in await store.read_log(record.table_id) if r.operation["type"] == "annotate"
            ]
    finally:
        await store.close()
    return len(times), (max(times) - min(times)) if len(times) > 1 else 0.0


def _medians(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over rounds (figures some round lacks are left out)."""
    keys = [
        key
        for key, value in results[0].items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    ]
    medians: dict[str, Any] = {"mode": results[0].get("mode")}
    for key in keys:
        values = [r[key] for r in results if isinstance(r.get(key), (int, float))]
        medians[key] = round(statistics.median(values), 3) if values else None
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds per server, 20 workers")
    parser.add_argument("--workers", type=int, help="worker clients (default 50, quick 20)")
    parser.add_argument("--rate", type=float, default=1.0, help="operations per second per worker")
    parser.add_argument("--duration", type=float, help="seconds of load per server (default 20, quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds not measured (default 2, quick 0.5)")
    parser.add_argument("--processes", type=int, help="client processes (default: CPUs, at most 8)")
    parser.add_argument("--observers", type=int, default=20, help="workers recording seen-latency")
    parser.add_argument("--rounds", type=int, help="interleaved off/on rounds, medians (default 3, quick 1)")
    args = parser.parse_args()
    args.workers = args.workers or (20 if args.quick else 50)
    args.duration = args.duration or (3.0 if args.quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    args.processes = max(1, min(args.processes or min(8, os.cpu_count() or 1), args.workers))
    rounds = args.rounds or (1 if args.quick else 3)
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="crowdfill-assist-") as root:
        for round_index in range(rounds):  # interleaved: off, on, off, on, ...
            for name, start in (("off", _plain_start), ("on", _assisted_start)):
                base = Path(root) / name
                base.mkdir(exist_ok=True)
                load.start_server = start
                try:
                    result = load.run_mode("durable", args, base, round_index)
                finally:
                    load.start_server = _plain_start
                if name == "on":
                    count, span = asyncio.run(_annotations(base / f"durable-{round_index}"))
                    result["model_answers"] = count
                    result["model_calls_per_s"] = round(count / span, 1) if span else None
                runs[name].append(result)
                print(f"{name:4} round {round_index}: {json.dumps(result)}", flush=True)
    off, on = (_medians(runs[name]) for name in ("off", "on"))
    ratio = (
        round(on["seen_p99_ms"] / off["seen_p99_ms"], 3) if on["seen_p99_ms"] and off["seen_p99_ms"] else None
    )
    summary = {
        "bench": "assist",
        "quick": args.quick,
        "rounds": rounds,
        "workers": args.workers,
        "rate_per_worker": args.rate,
        "duration_s": args.duration,
        "cpus": os.cpu_count(),
        "off": off,
        "on": on,
        "seen_p99_ratio": ratio,
        "seen_p50_ratio": round(on["seen_p50_ms"] / off["seen_p50_ms"], 3)
        if on["seen_p50_ms"] and off["seen_p50_ms"]
        else None,
        "model_calls_per_s": on.get("model_calls_per_s"),
        "goal_seen_p99_ratio": 1.2,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
