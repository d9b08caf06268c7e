"""The embedded default store: one SQLite file in WAL mode, driven from one dedicated thread.

Every database call runs on a single worker thread (``_Worker``, which owns the connection), so
calls are serialized and the event loop never blocks on disk. Each write is one
explicit transaction; ``append`` writes a whole batch in one transaction, so a batch of concurrent
operations costs one commit (one WAL fsync with ``synchronous=FULL``). A commit is durable when the
call returns, so records survive the process being killed (and, with FULL, the machine losing power).

If the awaiting task is cancelled while its call is already running on the thread, the call still
completes (a commit may happen); if it had not started yet, it never runs.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from crowdfill.store._common import (
    RELEASED,
    check_batch,
    check_capture,
    check_epoch,
    check_lease_args,
    check_read,
    check_snapshot_seq,
    decode_json,
    encode_json,
)
from crowdfill.store.port import (
    JSON,
    Lease,
    LogRecord,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)

P = ParamSpec("P")
T = TypeVar("T")

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
SCHEMA_VERSION = 3  # 2 added the leases table, 3 the state captures
# Pages of WAL after which a commit checkpoints (SQLite's default is 1000, about 4 MB). While the WAL
# grows, every commit extends the file, and its fsync must also make the new size durable (a journal
# commit of the file system): about 40 % more CPU per single-record append on ext4 than a commit that
# overwrites WAL pages already there (docs/benchmarks.md, "The live path"). A WAL that restarts every
# 100 pages stops growing after them, where a fresh or reopened store (the WAL is removed on close)
# grew for its first 1000, and the extra checkpoints cost less than that. Durability is unchanged:
# each commit is fsynced as before, and a checkpoint only copies committed pages into the database.
WAL_AUTOCHECKPOINT_PAGES = 100
_INSERT_LOG = "INSERT INTO log (table_id, seq, operation, at) VALUES (?,?,?,?)"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tables (
        table_id TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    ) WITHOUT ROWID""",
    # The primary key is the (table_id, seq) index: appends, tail reads and MAX(seq) use it.
    """CREATE TABLE IF NOT EXISTS log (
        table_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        operation TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (table_id, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        table_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS items (
        table_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (table_id, kind, key)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS captures (
        table_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        blob BLOB NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS leases (
        table_id TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID""",
)


class SQLiteStore:
    """A :class:`~crowdfill.store.port.Store` on one SQLite file (created, with its directory, on open)."""

    def __init__(self, path: Path | str, synchronous: str = "FULL") -> None:
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise ValueError(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {synchronous!r}"
            )
        self.path = Path(path)
        self.synchronous = level
        self._worker: _Worker | None = None
        self._opening: Future[None] | None = None
        # Created, used and closed on the worker thread only.
        self._connection: sqlite3.Connection | None = None
        # Worker thread only: the last seq of each table this connection appended to, valid while
        # no other connection has committed (PRAGMA data_version unchanged), so an append skips
        # the table's existence check and its MAX(seq) (docs/benchmarks.md, "The live path").
        self._tails = _Tails()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r}, synchronous={self.synchronous!r})"

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._worker is None:
            self._worker = _Worker("crowdfill-sqlite")
            self._opening = self._worker.submit(self._open_sync)
        opening = self._opening
        assert opening is not None
        try:
            await asyncio.wrap_future(opening)
        except BaseException:
            if self._opening is opening:
                await self.close()
            raise

    async def close(self) -> None:
        worker = self._worker
        if worker is None:
            return
        self._worker = None
        self._opening = None
        try:
            await worker.call(self._close_sync)
        finally:
            worker.stop()

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        worker = self._worker
        if worker is None:
            raise StoreError(f"the SQLite store at {str(self.path)!r} is not open")
        return await worker.call(functools.partial(function, *args, **kwargs))

    def _open_sync(self) -> None:
        with _translated(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            try:
                _prepare(connection, self.synchronous)
            except BaseException:
                connection.close()
                raise
            self._connection = connection

    def _close_sync(self) -> None:
        connection, self._connection = self._connection, None
        self._tails = _Tails()
        if connection is not None:
            with _translated(self.path):
                connection.close()

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError(f"the SQLite store at {str(self.path)!r} is not open")
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the worker thread; ROLLBACK on any failure."""
        connection = self._db()
        with _translated(self.path):
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    # -- tables ----------------------------------------------------------------------------------

    async def create_table(self, record: TableRecord) -> None:
        await self._run(self._create_table, record)

    def _create_table(self, record: TableRecord) -> None:
        definition = encode_json(record.definition)
        with self._transaction() as db:
            if _exists(db, record.table_id):
                raise StoreConflict(f"a table {record.table_id!r} is already stored")
            db.execute(
                "INSERT INTO tables (table_id, definition, status, created_at, updated_at)"
                " VALUES (?,?,?,?,?)",
                (record.table_id, definition, record.status, record.created_at, record.updated_at),
            )

    async def update_table(
        self, table_id: str, *, definition: JSON | None = None, status: str | None = None, at: float
    ) -> TableRecord:
        return await self._run(self._update_table, table_id, definition, status, at)

    def _update_table(
        self, table_id: str, definition: JSON | None, status: str | None, at: float
    ) -> TableRecord:
        text = None if definition is None else encode_json(definition)
        with self._transaction() as db:
            if not _exists(db, table_id):
                raise UnknownTable(f"no table {table_id!r} is stored")
            db.execute(
                "UPDATE tables SET definition = COALESCE(?, definition), status = COALESCE(?, status),"
                " updated_at = ? WHERE table_id = ?",
                (text, status, at, table_id),
            )
            record = _table_record(db, table_id)
        assert record is not None
        return record

    async def get_table(self, table_id: str) -> TableRecord | None:
        return await self._run(self._get_table, table_id)

    def _get_table(self, table_id: str) -> TableRecord | None:
        with _translated(self.path):
            return _table_record(self._db(), table_id)

    async def list_tables(self) -> list[TableRecord]:
        return await self._run(self._list_tables)

    def _list_tables(self) -> list[TableRecord]:
        with _translated(self.path):
            rows = self._db().execute(
                "SELECT table_id, definition, status, created_at, updated_at FROM tables"
                " ORDER BY created_at, table_id"
            )
            return [TableRecord(t, decode_json(d), s, c, u) for t, d, s, c, u in rows]

    # -- the log ---------------------------------------------------------------------------------

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        await self._run(self._append, table_id, list(records), epoch)

    def _append(self, table_id: str, records: list[LogRecord], epoch: int | None) -> None:
        if not records:
            self._db()  # an empty batch writes nothing, but a closed store still says so
            return
        rows = [(table_id, record.seq, encode_json(record.operation), record.at) for record in records]
        db = self._db()
        # The transaction of ``_transaction``, written out: this runs once per live batch.
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Under BEGIN IMMEDIATE nobody else can commit until we do, so a tail still valid
                # now stays valid until this transaction's end.
                last = self._tails.last_seq(db, table_id)
                if last is None:
                    if not _exists(db, table_id):
                        raise UnknownTable(f"no table {table_id!r} is stored")
                    last = _last_seq(db, table_id)
                if epoch is not None:
                    check_epoch(table_id, epoch, _epoch(db, table_id))
                check_batch(table_id, last, records)
                if len(rows) == 1:
                    db.execute(_INSERT_LOG, rows[0])
                else:
                    db.executemany(_INSERT_LOG, rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"SQLite store at {str(self.path)!r}: {error}") from error
        # Only once the commit succeeded (a failed one rolled back and left the tail as it was).
        self._tails.appended(table_id, records[-1].seq)

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        check_read(after_seq, limit)
        return await self._run(self._read_log, table_id, after_seq, limit)

    def _read_log(self, table_id: str, after_seq: int, limit: int | None) -> list[LogRecord]:
        with _translated(self.path):
            rows = self._db().execute(
                "SELECT seq, operation, at FROM log WHERE table_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (table_id, after_seq, -1 if limit is None else limit),
            )
            return [LogRecord(seq, decode_json(operation), at) for seq, operation, at in rows]

    async def last_seq(self, table_id: str) -> int:
        return await self._run(self._last_seq_sync, table_id)

    def _last_seq_sync(self, table_id: str) -> int:
        with _translated(self.path):
            return _last_seq(self._db(), table_id)

    # -- snapshots -------------------------------------------------------------------------------

    async def save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        await self._run(self._save_snapshot, table_id, seq, state)

    def _save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        text = encode_json(state)
        with self._transaction() as db:
            if not _exists(db, table_id):
                raise UnknownTable(f"no table {table_id!r} is stored")
            check_snapshot_seq(table_id, seq, _last_seq(db, table_id))
            db.execute(
                "INSERT INTO snapshots (table_id, seq, state) VALUES (?,?,?)"
                " ON CONFLICT (table_id) DO UPDATE SET seq = excluded.seq, state = excluded.state"
                # A snapshot landing late (a deposed or slow writer) must not replace a newer one.
                " WHERE excluded.seq >= snapshots.seq",
                (table_id, seq, text),
            )

    async def load_snapshot(self, table_id: str) -> tuple[int, JSON] | None:
        return await self._run(self._load_snapshot, table_id)

    def _load_snapshot(self, table_id: str) -> tuple[int, JSON] | None:
        with _translated(self.path):
            row = (
                self._db()
                .execute("SELECT seq, state FROM snapshots WHERE table_id = ?", (table_id,))
                .fetchone()
            )
        return None if row is None else (row[0], decode_json(row[1]))

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        await self._run(self._save_capture, table_id, seq, blob)

    def _save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        # One transaction: a crash before COMMIT leaves the previous capture in place (WAL rollback).
        with self._transaction() as db:
            if not _exists(db, table_id):
                raise UnknownTable(f"no table {table_id!r} is stored")
            data = check_capture(table_id, seq, blob, _last_seq(db, table_id))
            db.execute(
                "INSERT INTO captures (table_id, seq, blob) VALUES (?,?,?)"
                " ON CONFLICT (table_id) DO UPDATE SET seq = excluded.seq, blob = excluded.blob"
                # An older capture landing late (a slow writer) must not replace a newer one.
                " WHERE excluded.seq >= captures.seq",
                (table_id, seq, data),
            )

    async def load_capture(self, table_id: str) -> tuple[int, bytes] | None:
        return await self._run(self._load_capture, table_id)

    def _load_capture(self, table_id: str) -> tuple[int, bytes] | None:
        with _translated(self.path):
            row = (
                self._db()
                .execute("SELECT seq, blob FROM captures WHERE table_id = ?", (table_id,))
                .fetchone()
            )
        return None if row is None else (int(row[0]), bytes(row[1]))

    # -- items -----------------------------------------------------------------------------------

    async def put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        await self._run(self._put_item, table_id, kind, key, value)

    def _put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        text = encode_json(value)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO items (table_id, kind, key, value) VALUES (?,?,?,?)"
                " ON CONFLICT (table_id, kind, key) DO UPDATE SET value = excluded.value",
                (table_id, kind, key, text),
            )

    async def get_item(self, table_id: str, kind: str, key: str) -> JSON | None:
        return await self._run(self._get_item, table_id, kind, key)

    def _get_item(self, table_id: str, kind: str, key: str) -> JSON | None:
        with _translated(self.path):
            row = (
                self._db()
                .execute(
                    "SELECT value FROM items WHERE table_id = ? AND kind = ? AND key = ?",
                    (table_id, kind, key),
                )
                .fetchone()
            )
        return None if row is None else decode_json(row[0])

    async def list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        return await self._run(self._list_items, table_id, kind)

    def _list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        with _translated(self.path):
            rows = self._db().execute(
                "SELECT key, value FROM items WHERE table_id = ? AND kind = ? ORDER BY key", (table_id, kind)
            )
            return [(key, decode_json(value)) for key, value in rows]

    async def delete_item(self, table_id: str, kind: str, key: str) -> bool:
        return await self._run(self._delete_item, table_id, kind, key)

    def _delete_item(self, table_id: str, kind: str, key: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM items WHERE table_id = ? AND kind = ? AND key = ?", (table_id, kind, key)
            )
            return cursor.rowcount > 0

    # -- leases ----------------------------------------------------------------------------------

    async def acquire_lease(self, table_id: str, holder: str, *, ttl: float, now: float) -> Lease | None:
        check_lease_args(holder, ttl)
        return await self._run(self._acquire_lease, table_id, holder, float(now), float(now + ttl))

    def _acquire_lease(self, table_id: str, holder: str, now: float, expires_at: float) -> Lease | None:
        with self._transaction() as db:
            # The same statement as PostgreSQL's: take a free or expired lease, or extend one's own.
            row = db.execute(
                "INSERT INTO leases (table_id, holder, epoch, expires_at) VALUES (?, ?, 1, ?)"
                " ON CONFLICT (table_id) DO UPDATE SET"
                " epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ?"
                " THEN leases.epoch ELSE leases.epoch + 1 END,"
                " holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?"
                " RETURNING holder, epoch, expires_at",
                (table_id, holder, expires_at, now, now),
            ).fetchone()
        return None if row is None else Lease(table_id, row[0], row[1], row[2])

    async def renew_lease(
        self, table_id: str, holder: str, epoch: int, *, ttl: float, now: float
    ) -> Lease | None:
        check_lease_args(holder, ttl)
        return await self._run(self._renew_lease, table_id, holder, epoch, float(now + ttl))

    def _renew_lease(self, table_id: str, holder: str, epoch: int, expires_at: float) -> Lease | None:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE leases SET expires_at = ? WHERE table_id = ? AND holder = ? AND epoch = ?",
                (expires_at, table_id, holder, epoch),
            )
        return Lease(table_id, holder, epoch, expires_at) if cursor.rowcount > 0 else None

    async def release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        return await self._run(self._release_lease, table_id, holder, epoch)

    def _release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE leases SET expires_at = ? WHERE table_id = ? AND holder = ? AND epoch = ?",
                (RELEASED, table_id, holder, epoch),
            )
            return cursor.rowcount > 0

    async def get_lease(self, table_id: str) -> Lease | None:
        return await self._run(self._get_lease, table_id)

    def _get_lease(self, table_id: str) -> Lease | None:
        with _translated(self.path):
            row = (
                self._db()
                .execute("SELECT holder, epoch, expires_at FROM leases WHERE table_id = ?", (table_id,))
                .fetchone()
            )
        return None if row is None else Lease(table_id, row[0], row[1], row[2])


class _Worker:
    """The store's one thread: runs the calls handed to it in order, answering each on its caller's loop.

    Lighter than a one-thread ``ThreadPoolExecutor`` awaited through ``asyncio.wrap_future`` (a
    concurrent future with its lock and callbacks, chained to an asyncio future, per call): one queue
    put and one ``call_soon_threadsafe`` per call (docs/benchmarks.md, "The live path"). A call
    whose awaiting task was cancelled before the thread took it never runs; one already running
    completes (its commit may happen) and its answer is dropped. The thread is a daemon: a process
    that exits without closing the store stops it wherever it is, as a kill would (SQLite's WAL
    keeps every committed transaction and rolls back the rest).
    """

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def call(self, function: Callable[[], T]) -> asyncio.Future[T]:
        """Run ``function`` on the thread; the future is the running loop's."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(function, future, loop))
        return future

    def submit(self, function: Callable[[], T]) -> Future[T]:
        """Run ``function`` on the thread; the future may be awaited from any loop (``wrap_future``)."""
        future: Future[T] = Future()
        self._jobs.put(_Job(function, future, None))
        return future

    def stop(self) -> None:
        """End the thread once the calls queued before this one have run."""
        self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job.run()


class _Job:
    __slots__ = ("function", "future", "loop")

    def __init__(
        self,
        function: Callable[[], Any],
        future: asyncio.Future[Any] | Future[Any],
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.function = function
        self.future = future
        self.loop = loop

    def run(self) -> None:
        future, loop = self.future, self.loop
        if loop is None:
            assert isinstance(future, Future)
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self.function())
            except BaseException as error:  # noqa: BLE001  # handed to the awaiting task, as an executor does
                future.set_exception(error)
            return
        if future.cancelled():
            return  # its task was cancelled before the call started: it never runs
        result: Any = None
        failure: BaseException | None = None
        try:
            result = self.function()
        except BaseException as error:  # noqa: BLE001  # handed to the awaiting task, as an executor does
            failure = error
        assert isinstance(future, asyncio.Future)
        if loop.is_closed():
            return  # nobody can await the answer any more
        try:
            loop.call_soon_threadsafe(_answer, future, result, failure)
        except RuntimeError:
            # The loop closed between the check and the call: nobody can await the answer any more.
            return


def _answer(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.done():
        return  # its task was cancelled while the call ran
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(result)


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """sqlite3 and file-system failures become StoreError (the server reports them as unavailable)."""
    try:
        yield
    except (sqlite3.Error, OSError) as error:
        raise StoreError(f"SQLite store at {str(path)!r}: {error}") from error


def _prepare(connection: sqlite3.Connection, synchronous: str) -> None:
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"SQLite refused WAL mode (journal_mode is {mode!r})")
    # ``synchronous`` is one of SYNCHRONOUS_LEVELS (checked in __init__); PRAGMA takes no parameters.
    connection.execute(f"PRAGMA synchronous = {synchronous}")
    connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"the database has schema version {version}; this CrowdFill knows {SCHEMA_VERSION}")
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


class _Tails:
    """Each table's last seq as this connection left it, forgotten when another connection commits.

    ``PRAGMA data_version`` changes exactly when another connection (another store on the same
    file, another process) has committed since it was last read; our own commits leave it as is.
    Nothing but ``append`` adds to the log and no table is ever removed, so while the version is
    unchanged a remembered tail is the table's MAX(seq) and the table exists.
    """

    def __init__(self) -> None:
        self._seqs: dict[str, int] = {}
        self._version: int | None = None

    def last_seq(self, db: sqlite3.Connection, table_id: str) -> int | None:
        version = int(db.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._seqs.clear()
            self._version = version
        return self._seqs.get(table_id)

    def appended(self, table_id: str, seq: int) -> None:
        self._seqs[table_id] = seq


def _exists(db: sqlite3.Connection, table_id: str) -> bool:
    return db.execute("SELECT 1 FROM tables WHERE table_id = ?", (table_id,)).fetchone() is not None


def _last_seq(db: sqlite3.Connection, table_id: str) -> int:
    value = db.execute("SELECT MAX(seq) FROM log WHERE table_id = ?", (table_id,)).fetchone()[0]
    return 0 if value is None else int(value)


def _epoch(db: sqlite3.Connection, table_id: str) -> int | None:
    row = db.execute("SELECT epoch FROM leases WHERE table_id = ?", (table_id,)).fetchone()
    return None if row is None else int(row[0])


def _table_record(db: sqlite3.Connection, table_id: str) -> TableRecord | None:
    row = db.execute(
        "SELECT table_id, definition, status, created_at, updated_at FROM tables WHERE table_id = ?",
        (table_id,),
    ).fetchone()
    if row is None:
        return None
    return TableRecord(row[0], decode_json(row[1]), row[2], row[3], row[4])
