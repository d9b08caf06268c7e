"""What only the SQLite adapter promises: WAL mode, durability across kill -9, a free event loop."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from crowdfill.store import LogRecord, SQLiteStore, StoreError, TableRecord
from crowdfill.store.port import StoreConflict, UnknownTable
from crowdfill.store.sqlite import SCHEMA_VERSION
from tests.store.appender import TABLE_ID, expected_operation

REPO = Path(__file__).resolve().parents[2]


async def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
    await store.append("t1", [LogRecord(1, {"a": 1}, 1.0)])
    try:
        with sqlite3.connect(tmp_path / "db.sqlite3") as other:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (tmp_path / "db.sqlite3-wal").exists()
    finally:
        await store.close()


async def test_the_wal_restarts_after_a_hundred_pages_instead_of_growing_to_four_megabytes(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
    try:
        for seq in range(1, 501):  # one commit each, as live single-operation batches are
            await store.append("t1", [LogRecord(seq, {"payload": "x" * 300, "seq": seq}, 1.0)])
        wal_bytes = (tmp_path / "db.sqlite3-wal").stat().st_size
        assert len(await store.read_log("t1")) == 500
    finally:
        await store.close()
    page_frame = 4096 + 24
    assert wal_bytes <= 32 + (100 + 10) * page_frame


async def test_opening_creates_missing_directories(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "a" / "b" / "db.sqlite3")
    await store.open()
    await store.close()
    assert (tmp_path / "a" / "b" / "db.sqlite3").is_file()


async def test_a_file_that_is_not_a_database_fails_to_open_with_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match="garbage"):
        await store.open()
    with pytest.raises(StoreError, match="not open"):
        await store.list_tables()


def test_an_unknown_synchronous_level_is_refused() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteStore(Path("x.sqlite3"), synchronous="SOMETIMES")


async def test_the_event_loop_keeps_running_while_a_large_batch_is_written(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
    batch = [LogRecord(seq, {"payload": "x" * 200, "seq": seq}, 1.0) for seq in range(1, 100_001)]
    ticks = 0
    append = asyncio.ensure_future(store.append("t1", batch))
    try:
        while not append.done():
            ticks += 1
            await asyncio.sleep(0)
        await append
    finally:
        await store.close()
    assert ticks > 10


async def test_an_append_whose_task_is_cancelled_before_the_thread_takes_it_never_runs(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    await store.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
    release = threading.Event()
    try:
        held = asyncio.ensure_future(store._run(release.wait, 10.0))  # the thread is busy with this
        append = asyncio.ensure_future(store.append("t1", [LogRecord(1, {"a": 1}, 1.0)]))
        await asyncio.sleep(0.01)
        append.cancel()
        release.set()
        assert await held is True
        with pytest.raises(asyncio.CancelledError):
            await append
        assert await store.read_log("t1") == []
        await store.append("t1", [LogRecord(1, {"a": 2}, 1.0)])  # the thread goes on
        assert [r.operation for r in await store.read_log("t1")] == [{"a": 2}]
    finally:
        release.set()
        await store.close()


async def test_a_call_already_running_when_its_task_is_cancelled_completes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(10.0)
        finished.append("done")

    try:
        call = asyncio.ensure_future(store._run(slow))
        while not started.is_set():
            await asyncio.sleep(0.001)
        call.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await call
        await store.list_tables()  # queued behind it: it has finished by now
        assert finished == ["done"]
    finally:
        release.set()
        await store.close()


async def test_a_failure_on_the_store_thread_reaches_the_awaiting_task_and_the_thread_ends_on_close(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    thread = store._worker._thread if store._worker is not None else None
    assert thread is not None
    assert thread.is_alive()
    with pytest.raises(UnknownTable):
        await store.append("nowhere", [LogRecord(1, {"a": 1}, 1.0)])
    await store.close()
    thread.join(5.0)
    assert not thread.is_alive()


async def test_every_acknowledged_record_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.appender", str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged = 0
    try:
        assert process.stdout is not None
        while acknowledged < 300:
            line = process.stdout.readline()
            assert line, f"the appender stopped early: {process.stderr.read() if process.stderr else ''}"
            acknowledged = int(line.split()[1])
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        # Acknowledgements already in the pipe when the process died count too.
        for line in process.stdout:
            acknowledged = int(line.split()[1])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert process.returncode == -signal.SIGKILL

    store = SQLiteStore(path)
    await store.open()
    try:
        log = await store.read_log(TABLE_ID)
    finally:
        await store.close()
    assert len(log) >= acknowledged
    assert [record.seq for record in log] == list(range(1, len(log) + 1))
    assert all(record.operation == expected_operation(record.seq) for record in log)


async def test_a_version_1_file_is_upgraded_in_place_and_gains_leases_and_captures(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    with closing(sqlite3.connect(path)) as old:
        old.execute(
            "CREATE TABLE tables (table_id TEXT PRIMARY KEY, definition TEXT NOT NULL,"
            " status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL) WITHOUT ROWID"
        )
        old.execute("INSERT INTO tables VALUES ('t1', '{}', 'live', 1.0, 1.0)")
        old.execute("PRAGMA user_version = 1")
        old.commit()
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.get_table("t1") is not None
        lease = await store.acquire_lease("t1", "a", ttl=5.0, now=1.0)
        assert lease is not None
        assert lease.epoch == 1
        await store.save_capture("t1", 0, b"state")
        assert await store.load_capture("t1") == (0, b"state")
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as upgraded:
        assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_an_append_sees_what_another_connection_appended_since_its_own_last_append(
    tmp_path: Path,
) -> None:
    # The store remembers each table's tail between its own appends; another writer on the same
    # file must invalidate that memory, or a stale seq would be accepted and a duplicate refused late.
    first, second = SQLiteStore(tmp_path / "db.sqlite3"), SQLiteStore(tmp_path / "db.sqlite3")
    await first.open()
    await second.open()
    try:
        await first.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
        await first.append("t1", [LogRecord(1, {"by": "first"}, 1.0)])
        await second.append("t1", [LogRecord(2, {"by": "second"}, 1.0)])
        with pytest.raises(StoreConflict, match="at seq 3"):
            await first.append("t1", [LogRecord(2, {"by": "first"}, 1.0)])
        await first.append("t1", [LogRecord(3, {"by": "first"}, 1.0)])
        assert [r.operation["by"] for r in await second.read_log("t1")] == ["first", "second", "first"]
    finally:
        await first.close()
        await second.close()


async def test_a_refused_append_leaves_the_tail_where_the_log_ends(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    try:
        await store.create_table(TableRecord("t1", {}, "draft", 1.0, 1.0))
        await store.append("t1", [LogRecord(1, {"n": 1}, 1.0)])
        with pytest.raises(StoreConflict):
            await store.append("t1", [LogRecord(3, {"n": 3}, 1.0)])  # a gap: refused
        await store.append("t1", [LogRecord(2, {"n": 2}, 1.0)])
        assert await store.last_seq("t1") == 2
        with pytest.raises(UnknownTable, match="t2"):
            await store.append("t2", [LogRecord(1, {"n": 1}, 1.0)])
    finally:
        await store.close()
