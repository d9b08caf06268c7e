"""A process that appends to a SQLite store forever, acknowledging each durable batch on stdout.

Run as ``python -m tests.store.appender <db path>``; ``test_sqlite`` kills it with SIGKILL.
Each line is ``ack <last seq>``, printed only after ``append`` returned. Record ``seq`` always
carries ``expected_operation(seq)``, so the test can check contents, not only counts.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from crowdfill.store import LogRecord, SQLiteStore, TableRecord

TABLE_ID = "crash"


def expected_operation(seq: int) -> dict[str, object]:
    return {"type": "fill", "worker": f"w{seq % 7}", "row_id": f"r{seq}", "value": "x" * (seq % 13)}


async def run(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.create_table(TableRecord(TABLE_ID, {"name": "crash"}, "live", 1.0, 1.0))
    seq = 0
    batch_size = 1
    while True:
        batch = [LogRecord(s, expected_operation(s), float(s)) for s in range(seq + 1, seq + batch_size + 1)]
        await store.append(TABLE_ID, batch)
        seq += batch_size
        sys.stdout.write(f"ack {seq}\n")
        sys.stdout.flush()
        batch_size = batch_size % 9 + 1


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1])))
