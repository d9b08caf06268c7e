"""What is PostgreSQL's own: schema migrations, connection failures (the contract suite covers the rest)."""

from __future__ import annotations

import psycopg
import pytest

from crowdfill.store import LogRecord, PostgresStore, StoreError, TableRecord
from crowdfill.store.postgres import MIGRATIONS, SCHEMA_VERSION
from tests.support.services import PostgresServer, free_port, postgres_server


def applied_versions(url: str) -> list[int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    return [int(version) for (version,) in rows]


async def test_opening_an_empty_database_applies_every_migration_once(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    for _ in range(2):
        store = PostgresStore(url)
        await store.open()
        await store.close()
    assert applied_versions(url) == sorted(MIGRATIONS)
    assert max(applied_versions(url)) == SCHEMA_VERSION


async def test_a_database_at_an_older_version_is_migrated_keeping_its_data(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    with psycopg.connect(url) as connection:
        connection.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)"
        )
        for statement in MIGRATIONS[1]:
            connection.execute(statement.encode())
        connection.execute("INSERT INTO schema_version (version) VALUES (1)")
        connection.execute("INSERT INTO tables VALUES ('t1', '{}', 'live', 1.0, 1.0)")
        connection.execute("INSERT INTO log VALUES ('t1', 1, '{\"type\":\"x\"}', 2.0)")
    store = PostgresStore(url)
    await store.open()
    try:
        assert applied_versions(url) == sorted(MIGRATIONS)
        assert await store.get_table("t1") == TableRecord("t1", {}, "live", 1.0, 1.0)
        lease = await store.acquire_lease("t1", "a", ttl=5.0, now=10.0)
        assert lease is not None
        await store.append("t1", [LogRecord(2, {"type": "y"}, 3.0)], epoch=lease.epoch)
        assert await store.last_seq("t1") == 2
    finally:
        await store.close()


async def test_a_database_from_a_newer_crowdfill_is_refused(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    store = PostgresStore(url)
    await store.open()
    await store.close()
    with psycopg.connect(url) as connection:
        connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        await PostgresStore(url).open()


async def test_an_unreachable_server_fails_to_open_with_a_store_error_and_no_password() -> None:
    store = PostgresStore(f"postgresql://crowd:hunter2@127.0.0.1:{free_port()}/x", timeout_s=0.5)
    with pytest.raises(StoreError, match="PostgreSQL unavailable") as refused:
        await store.open()
    assert "hunter2" not in str(refused.value)
    with pytest.raises(StoreError, match="not open"):
        await store.last_seq("t1")


@pytest.mark.slow
async def test_appends_fail_cleanly_while_the_server_is_down_and_resume_after_it_restarts() -> None:
    with postgres_server() as server:
        store = PostgresStore(server.new_database(), timeout_s=1.0)
        await store.open()
        try:
            await store.create_table(TableRecord("t1", {}, "live", 1.0, 1.0))
            await store.append("t1", [LogRecord(1, {"n": 1}, 1.0)])
            server.stop()
            with pytest.raises(StoreError):
                await store.append("t1", [LogRecord(2, {"n": 2}, 2.0)])
            server.start()
            # The first call after the restart may still meet a connection the restart broke.
            for _attempt in range(20):
                try:
                    await store.append("t1", [LogRecord(2, {"n": 2}, 2.0)])
                    break
                except StoreError:
                    continue
            assert await store.read_log("t1") == [LogRecord(1, {"n": 1}, 1.0), LogRecord(2, {"n": 2}, 2.0)]
        finally:
            await store.close()
