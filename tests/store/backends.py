"""The adapters the contract suite runs against, and how to make each (MongoDB only when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from crowdfill.store import MemoryStore, MongoStore, SQLiteStore, Store

MONGODB_URL_VARIABLE = "CROWDFILL_TEST_MONGODB_URL"


@dataclass(frozen=True)
class Backend:
    name: str
    make: Callable[[], Store]
    """A new store object over the same data (for MemoryStore: the same object)."""


@asynccontextmanager
async def backend_named(name: str, tmp_path: Path) -> AsyncIterator[Backend]:
    if name == "sqlite":
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
