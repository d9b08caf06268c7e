"""The PostgreSQL store: psycopg 3 (async) over a connection pool, for several server processes.

Selected by a ``postgresql://`` (or ``postgres://``) URL. Payloads are stored as JSON text (not
``jsonb``), exactly as SQLite stores them, so every adapter accepts and returns the same values
(``jsonb`` would reorder keys and refuse ``\\u0000``).

Each write is one transaction; ``append`` writes a whole batch in one transaction, after locking
the table's row (``FOR UPDATE``), so concurrent appends to one table are serialized and the loser
fails the sequence check with ``StoreConflict``. A fenced append (``epoch=...``) also reads the
lease row ``FOR SHARE``: ``acquire_lease`` updates that row, so a takeover and an append are
ordered, and an append after a takeover sees the new epoch and is refused (``StaleEpoch``).

The schema is created and migrated on ``open`` (see ``MIGRATIONS`` and docs/deploy.md): the
``schema_version`` table records each applied version; the migrations run in one transaction
under an advisory lock, so servers starting together migrate once; a database whose version is
newer than this CrowdFill knows is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

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

Connection = AsyncConnection[tuple[Any, ...]]

# Version -> statements. Append new versions; never edit an applied one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE tables (
            table_id TEXT PRIMARY KEY,
            definition TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX tables_created ON tables (created_at, table_id)",
        """CREATE TABLE log (
            table_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            operation TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (table_id, seq)
        )""",
        """CREATE TABLE snapshots (
            table_id TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            state TEXT NOT NULL
        )""",
        """CREATE TABLE items (
            table_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (table_id, kind, key)
        )""",
    ),
    2: (
        """CREATE TABLE leases (
            table_id TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            epoch BIGINT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL
        )""",
    ),
    3: (
        """CREATE TABLE captures (
            table_id TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            blob BYTEA NOT NULL
        )""",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)
_MIGRATION_LOCK = 0x43524F57  # any constant: the advisory lock key servers migrate under


class PostgresStore:
    """A :class:`~crowdfill.store.port.Store` on a PostgreSQL database (its tables made on open)."""

    def __init__(
        self, url: str, *, min_connections: int = 1, max_connections: int = 10, timeout_s: float = 10.0
    ) -> None:
        self._url = url
        self._min = min_connections
        self._max = max_connections
        self._timeout_s = timeout_s
        self._pool: AsyncConnectionPool[Connection] | None = None

    def __repr__(self) -> str:
        # The URL may carry a password: never show it.
        return "PostgresStore()"

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self._url,
            min_size=self._min,
            max_size=self._max,
            timeout=self._timeout_s,
            kwargs={"autocommit": True},
            open=False,
            name="crowdfill",
        )
        try:
            await pool.open(wait=True, timeout=self._timeout_s)
            async with pool.connection() as connection:
                await _migrate(connection)
        except BaseException as error:
            await pool.close()
            if isinstance(error, psycopg.Error | PoolTimeout):
                raise StoreError(f"PostgreSQL unavailable: {error}") from error
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        pool = self._pool
        if pool is None:
            raise StoreError("the PostgreSQL store is not open")
        try:
            async with pool.connection() as connection:
                yield connection
        except errors.UniqueViolation as error:
            raise StoreConflict(
                f"PostgreSQL refused a duplicate (another writer got there first): {error}"
            ) from error
        except (psycopg.Error, PoolTimeout) as error:
            raise StoreError(f"PostgreSQL: {error}") from error

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as connection, connection.transaction():
            yield connection

    # -- tables ----------------------------------------------------------------------------------

    async def create_table(self, record: TableRecord) -> None:
        definition = encode_json(record.definition)
        async with self._connection() as db:
            cursor = await db.execute(
                "INSERT INTO tables (table_id, definition, status, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_id) DO NOTHING",
                (record.table_id, definition, record.status, record.created_at, record.updated_at),
            )
            if cursor.rowcount == 0:
                raise StoreConflict(f"a table {record.table_id!r} is already stored")

    async def update_table(
        self, table_id: str, *, definition: JSON | None = None, status: str | None = None, at: float
    ) -> TableRecord:
        text = None if definition is None else encode_json(definition)
        async with self._connection() as db:
            cursor = await db.execute(
                "UPDATE tables SET definition = COALESCE(%s, definition), status = COALESCE(%s, status),"
                " updated_at = %s WHERE table_id = %s"
                " RETURNING table_id, definition, status, created_at, updated_at",
                (text, status, at, table_id),
            )
            row = await cursor.fetchone()
        if row is None:
            raise UnknownTable(f"no table {table_id!r} is stored")
        return _table_record(row)

    async def get_table(self, table_id: str) -> TableRecord | None:
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT table_id, definition, status, created_at, updated_at FROM tables WHERE table_id = %s",
                (table_id,),
            )
            row = await cursor.fetchone()
        return None if row is None else _table_record(row)

    async def list_tables(self) -> list[TableRecord]:
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT table_id, definition, status, created_at, updated_at FROM tables"
                ' ORDER BY created_at, table_id COLLATE "C"'
            )
            return [_table_record(row) for row in await cursor.fetchall()]

    # -- the log ---------------------------------------------------------------------------------

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        if not records:
            if self._pool is None:
                raise StoreError("the PostgreSQL store is not open")
            return
        batch = list(records)
        rows = [(table_id, record.seq, encode_json(record.operation), float(record.at)) for record in batch]
        async with self._transaction() as db:
            cursor = await db.execute("SELECT 1 FROM tables WHERE table_id = %s FOR UPDATE", (table_id,))
            if await cursor.fetchone() is None:
                raise UnknownTable(f"no table {table_id!r} is stored")
            if epoch is not None:
                cursor = await db.execute(
                    "SELECT epoch FROM leases WHERE table_id = %s FOR SHARE", (table_id,)
                )
                row = await cursor.fetchone()
                check_epoch(table_id, epoch, None if row is None else int(row[0]))
            check_batch(table_id, await _last_seq(db, table_id), batch)
            async with db.cursor() as insert:
                await insert.executemany(
                    "INSERT INTO log (table_id, seq, operation, at) VALUES (%s, %s, %s, %s)", rows
                )

    async def read_log(self, table_id: str, after_seq: int = 0, limit: int | None = None) -> list[LogRecord]:
        check_read(after_seq, limit)
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT seq, operation, at FROM log WHERE table_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                (table_id, after_seq, limit),
            )
            return [LogRecord(int(seq), decode_json(text), at) for seq, text, at in await cursor.fetchall()]

    async def last_seq(self, table_id: str) -> int:
        async with self._connection() as db:
            return await _last_seq(db, table_id)

    # -- snapshots -------------------------------------------------------------------------------

    async def save_snapshot(self, table_id: str, seq: int, state: JSON) -> None:
        text = encode_json(state)
        async with self._transaction() as db:
            cursor = await db.execute("SELECT 1 FROM tables WHERE table_id = %s FOR UPDATE", (table_id,))
            if await cursor.fetchone() is None:
                raise UnknownTable(f"no table {table_id!r} is stored")
            check_snapshot_seq(table_id, seq, await _last_seq(db, table_id))
            await db.execute(
                "INSERT INTO snapshots (table_id, seq, state) VALUES (%s, %s, %s)"
                " ON CONFLICT (table_id) DO UPDATE SET seq = excluded.seq, state = excluded.state"
                # A snapshot landing late (a deposed or slow writer) must not replace a newer one.
                " WHERE excluded.seq >= snapshots.seq",
                (table_id, seq, text),
            )

    async def load_snapshot(self, table_id: str) -> tuple[int, JSON] | None:
        async with self._connection() as db:
            cursor = await db.execute("SELECT seq, state FROM snapshots WHERE table_id = %s", (table_id,))
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), decode_json(row[1]))

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        async with self._transaction() as db:
            cursor = await db.execute("SELECT 1 FROM tables WHERE table_id = %s FOR UPDATE", (table_id,))
            if await cursor.fetchone() is None:
                raise UnknownTable(f"no table {table_id!r} is stored")
            data = check_capture(table_id, seq, blob, await _last_seq(db, table_id))
            await db.execute(
                "INSERT INTO captures (table_id, seq, blob) VALUES (%s, %s, %s)"
                " ON CONFLICT (table_id) DO UPDATE SET seq = excluded.seq, blob = excluded.blob"
                # An older capture landing late (a slow writer) must not replace a newer one.
                " WHERE excluded.seq >= captures.seq",
                (table_id, seq, data),
            )

    async def load_capture(self, table_id: str) -> tuple[int, bytes] | None:
        async with self._connection() as db:
            cursor = await db.execute("SELECT seq, blob FROM captures WHERE table_id = %s", (table_id,))
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    # -- items -----------------------------------------------------------------------------------

    async def put_item(self, table_id: str, kind: str, key: str, value: JSON) -> None:
        text = encode_json(value)
        async with self._connection() as db:
            await db.execute(
                "INSERT INTO items (table_id, kind, key, value) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (table_id, kind, key) DO UPDATE SET value = excluded.value",
                (table_id, kind, key, text),
            )

    async def get_item(self, table_id: str, kind: str, key: str) -> JSON | None:
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT value FROM items WHERE table_id = %s AND kind = %s AND key = %s",
                (table_id, kind, key),
            )
            row = await cursor.fetchone()
        return None if row is None else decode_json(row[0])

    async def list_items(self, table_id: str, kind: str) -> list[tuple[str, JSON]]:
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT key, value FROM items WHERE table_id = %s AND kind = %s ORDER BY key",
                (table_id, kind),
            )
            return [(key, decode_json(value)) for key, value in await cursor.fetchall()]

    async def delete_item(self, table_id: str, kind: str, key: str) -> bool:
        async with self._connection() as db:
            cursor = await db.execute(
                "DELETE FROM items WHERE table_id = %s AND kind = %s AND key = %s", (table_id, kind, key)
            )
            return cursor.rowcount > 0

    # -- leases ----------------------------------------------------------------------------------

    async def acquire_lease(self, table_id: str, holder: str, *, ttl: float, now: float) -> Lease | None:
        check_lease_args(holder, ttl)
        async with self._connection() as db:
            cursor = await db.execute(
                "INSERT INTO leases (table_id, holder, epoch, expires_at) VALUES (%(t)s, %(h)s, 1, %(e)s)"
                " ON CONFLICT (table_id) DO UPDATE SET"
                " epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > %(n)s"
                " THEN leases.epoch ELSE leases.epoch + 1 END,"
                " holder = excluded.holder, expires_at = excluded.expires_at"
                " WHERE leases.holder = excluded.holder OR leases.expires_at <= %(n)s"
                " RETURNING holder, epoch, expires_at",
                {"t": table_id, "h": holder, "e": float(now + ttl), "n": float(now)},
            )
            row = await cursor.fetchone()
        return None if row is None else Lease(table_id, row[0], int(row[1]), row[2])

    async def renew_lease(
        self, table_id: str, holder: str, epoch: int, *, ttl: float, now: float
    ) -> Lease | None:
        check_lease_args(holder, ttl)
        async with self._connection() as db:
            cursor = await db.execute(
                "UPDATE leases SET expires_at = %s WHERE table_id = %s AND holder = %s AND epoch = %s"
                " RETURNING expires_at",
                (float(now + ttl), table_id, holder, epoch),
            )
            row = await cursor.fetchone()
        return None if row is None else Lease(table_id, holder, epoch, row[0])

    async def release_lease(self, table_id: str, holder: str, epoch: int) -> bool:
        async with self._connection() as db:
            cursor = await db.execute(
                "UPDATE leases SET expires_at = %s WHERE table_id = %s AND holder = %s AND epoch = %s",
                (RELEASED, table_id, holder, epoch),
            )
            return cursor.rowcount > 0

    async def get_lease(self, table_id: str) -> Lease | None:
        async with self._connection() as db:
            cursor = await db.execute(
                "SELECT holder, epoch, expires_at FROM leases WHERE table_id = %s", (table_id,)
            )
            row = await cursor.fetchone()
        return None if row is None else Lease(table_id, row[0], int(row[1]), row[2])


async def schema_version(connection: Connection) -> int:
    """The highest applied migration, 0 for a database CrowdFill never opened."""
    cursor = await connection.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    row = await cursor.fetchone()
    if row is None or not row[0]:
        return 0
    cursor = await connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    row = await cursor.fetchone()
    return 0 if row is None else int(row[0])


async def _migrate(connection: Connection) -> None:
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await schema_version(connection)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the database has schema version {current}; this CrowdFill knows {SCHEMA_VERSION}"
            )
        for version in sorted(v for v in MIGRATIONS if v > current):
            for statement in MIGRATIONS[version]:
                await connection.execute(statement.encode())
            await connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))


async def _last_seq(db: Connection, table_id: str) -> int:
    cursor = await db.execute("SELECT COALESCE(MAX(seq), 0) FROM log WHERE table_id = %s", (table_id,))
    row = await cursor.fetchone()
    return 0 if row is None else int(row[0])


def _table_record(row: tuple[Any, ...]) -> TableRecord:
    table_id, definition, status, created_at, updated_at = row
    return TableRecord(table_id, decode_json(definition), status, created_at, updated_at)
