"""CrowdFill store (see DESIGN.md §6, §7): the storage port and its adapters.

``open_store(url, data_dir)`` picks an adapter; nothing connects until ``await store.open()``.
"""

from __future__ import annotations

from crowdfill.store.factory import open_store
from crowdfill.store.memory import MemoryStore
from crowdfill.store.mongo import MongoStore
from crowdfill.store.port import (
    JSON,
    Lease,
    LogRecord,
    StaleEpoch,
    Store,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)
from crowdfill.store.postgres import PostgresStore
from crowdfill.store.sqlite import SQLiteStore

__all__ = [
    "JSON",
    "Lease",
    "LogRecord",
    "MemoryStore",
    "MongoStore",
    "PostgresStore",
    "SQLiteStore",
    "StaleEpoch",
    "Store",
    "StoreConflict",
    "StoreError",
    "TableRecord",
    "UnknownTable",
    "open_store",
]
