"""Durable appends per second on SQLite (synchronous=FULL): batches of 1 record vs batches of 50.

Each append is one transaction and one commit (one WAL fsync), so batching concurrent operations
into one append multiplies the records made durable per second. The baseline (batch size 1) is
measured in the same run. Usage: ``python bench/store.py [--quick] [--dir DIR]``; the last line
printed is JSON with ``ratio`` = records/s with batches of 50 over records/s with batches of 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from crowdfill.store import LogRecord, SQLiteStore, TableRecord


async def measure(directory: Path, batch_size: int, appends: int, synchronous: str) -> dict[str, float]:
    store = SQLiteStore(directory / f"bench-{batch_size}.sqlite3", synchronous=synchronous)
    await store.open()
    try:
        await store.create_table(TableRecord("bench", {"name": "bench"}, "live", 0.0, 0.0))
        seq = 0
        started = time.perf_counter()
        for _ in range(appends):
            batch = [
                LogRecord(
                    s, {"type": "upvote", "worker": f"w{s % 50}", "row_id": f"r{s}", "values": {"n": s}}, 0.0
                )
                for s in range(seq + 1, seq + batch_size + 1)
            ]
            await store.append("bench", batch)
            seq += batch_size
        elapsed = time.perf_counter() - started
        assert await store.last_seq("bench") == seq
    finally:
        await store.close()
    return {
        "batch_size": batch_size,
        "appends": appends,
        "seconds": round(elapsed, 4),
        "appends_per_s": round(appends / elapsed, 1),
        "records_per_s": round(seq / elapsed, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few seconds at most")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the database files go (default: a temp dir)"
    )
    parser.add_argument("--synchronous", default="FULL")
    args = parser.parse_args()
    appends = 100 if args.quick else 1000
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="crowdfill-bench-") as directory:
        single = await measure(Path(directory), 1, appends, args.synchronous)
        batched = await measure(Path(directory), 50, appends, args.synchronous)
    for result in (single, batched):
        print(
            f"batch of {result['batch_size']:>2}: {result['appends_per_s']:>9.1f} appends/s,"
            f" {result['records_per_s']:>10.1f} records/s ({result['appends']} appends)"
        )
    print(
        json.dumps(
            {
                "benchmark": "store",
                "adapter": "sqlite",
                "synchronous": args.synchronous.upper(),
                "quick": args.quick,
                "batch_1": single,
                "batch_50": batched,
                "ratio": round(batched["records_per_s"] / single["records_per_s"], 2),
                "ratio_means": "records/s with batches of 50 over records/s with batches of 1",
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
