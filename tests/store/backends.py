"""The adapters the contract suite runs against, and how to make each (MongoDB only when configured).

PostgreSQL runs on the session's throwaway server (``tests.support.services``), a new database per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from crowdfill.store import MemoryStore, MongoStore, PostgresStore, SQLiteStore, Store
from tests.support.services import PostgresServer

MONGODB_URL_VARIABLE = "CROWDFILL_TEST_MONGODB_URL"


@dataclass(frozen=True)
class Backend:
    name: str
    make: Callable[[], Store]
    """A new store object over the same data (for MemoryStore: the same object)."""


async def migrated_template(server: PostgresServer) -> str:
    """A database with CrowdFill's schema to copy: migrating every test's database would be slow.

    ``test_postgres`` runs the migrations on empty databases.
    """
    template = server.template_named("crowdfill")
    if template is not None:
        return template
    url = server.new_database()
    store = PostgresStore(url)
    await store.open()
    await store.close()
    server.keep_template("crowdfill", url)
    return url.rsplit("/", 1)[1]


@asynccontextmanager
async def backend_named(
    name: str, tmp_path: Path, request: pytest.FixtureRequest | None = None
) -> AsyncIterator[Backend]:
    if name == "postgresql":
        assert request is not None, "the PostgreSQL backend needs the test's request for the server"
        server: PostgresServer = request.getfixturevalue("postgres")
        database_url = server.new_database(await migrated_template(server))
        yield Backend(name, lambda: PostgresStore(database_url, max_connections=4))
    elif name == "sqlite":
        path = tmp_path / "store.sqlite3"
        yield Backend(name, lambda: SQLiteStore(path))
    elif name == "memory":
        memory = MemoryStore()
        yield Backend(name, lambda: memory)
    else:
        url = os.environ.get(MONGODB_URL_VARIABLE)
        if not url:
            pytest.skip(f"MongoDB contract tests need a server: set {MONGODB_URL_VARIABLE} to its URL")
        database = f"crowdfill_test_{uuid.uuid4().hex[:12]}"
        try:
            yield Backend(name, lambda: MongoStore(url, database, server_selection_timeout_ms=5_000))
        finally:
            client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
            try:
                await client.drop_database(database)
            finally:
                await client.close()
