"""CrowdFill store (see DESIGN.md §6, §7): the storage port and its adapters.

``open_store(url, data_dir)`` picks an adapter; nothing connects until ``await store.open()``.

The MongoDB and PostgreSQL adapters are imported when first named (``crowdfill.store.MongoStore``,
or ``open_store`` of their URL): their drivers (pymongo, psycopg) cost a quarter of a second of
every server start that does not use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from crowdfill.store.factory import open_store
from crowdfill.store.memory import MemoryStore
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
from crowdfill.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from crowdfill.store.mongo import MongoStore
    from crowdfill.store.postgres import PostgresStore

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

# The adapters whose drivers are imported only when the adapter is first named.
_DRIVER_ADAPTERS = {"MongoStore": "crowdfill.store.mongo", "PostgresStore": "crowdfill.store.postgres"}


def __getattr__(name: str) -> object:
    module = _DRIVER_ADAPTERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    adapter: object = getattr(importlib.import_module(module), name)
    globals()[name] = adapter  # once imported, an ordinary attribute
    return adapter
