"""CrowdFill store (see DESIGN.md §6, §7): the storage port and its adapters.

``open_store(url, data_dir)`` picks an adapter; nothing connects until ``await store.open()``.
"""

from __future__ import annotations

from crowdfill.store.factory import open_store
from crowdfill.store.memory import MemoryStore
from crowdfill.store.mongo import MongoStore
from crowdfill.store.port import (
    JSON,
    LogRecord,
    Store,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)
from crowdfill.store.sqlite import SQLiteStore

__all__ = [
    "JSON",
    "LogRecord",
    "MemoryStore",
    "MongoStore",
    "SQLiteStore",
    "Store",
    "StoreConflict",
    "StoreError",
    "TableRecord",
    "UnknownTable",
    "open_store",
]
