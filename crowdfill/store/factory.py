"""``open_store``: pick the adapter a store URL names. Nothing connects here (``Store.open`` does)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from crowdfill.store.memory import MemoryStore
from crowdfill.store.port import Store
from crowdfill.store.sqlite import SQLiteStore

DEFAULT_SQLITE_NAME = "crowdfill.sqlite3"
DEFAULT_MONGO_DATABASE = "crowdfill"
_SUPPORTED = (
    "memory://, postgresql://..., mongodb://..., mongodb+srv://..., sqlite:///path or a plain file path"
)


def open_store(url: str | None, data_dir: Path | None = None) -> Store:
    """The store for ``url`` (not yet opened; call ``await store.open()``).

    - empty or None: SQLite at ``<data_dir>/crowdfill.sqlite3``;
    - ``memory://``: in memory, persistence off;
    - ``postgresql://`` or ``postgres://``: PostgreSQL (libpq's URL: user, password, host, port,
      database and options such as ``sslmode``);
    - ``mongodb://`` or ``mongodb+srv://``: MongoDB; the database is the URL's path
      (``mongodb://host/mydb``), ``crowdfill`` when it has none;
    - ``sqlite:///name.db`` (relative to the working directory), ``sqlite:////abs/name.db``, or a
      plain path: SQLite at that file.
    """
    text = (url or "").strip()
    if not text:
        if data_dir is None:
            raise ValueError("no store URL and no data directory: give one of them")
        return SQLiteStore(Path(data_dir) / DEFAULT_SQLITE_NAME)
    scheme, separator, rest = text.partition("://")
    if not separator:
        return SQLiteStore(Path(text).expanduser())
    scheme = scheme.lower()
    if scheme == "memory":
        if rest:
            raise ValueError(f"a memory store URL is just 'memory://', not 'memory://{rest}'")
        return MemoryStore()
    if scheme in ("postgresql", "postgres"):
        from crowdfill.store.postgres import PostgresStore  # psycopg: imported when used only

        return PostgresStore(f"{scheme}://{rest}")  # libpq knows the scheme in lower case only
    if scheme in ("mongodb", "mongodb+srv"):
        from crowdfill.store.mongo import MongoStore  # pymongo: imported when used only

        return MongoStore(text, _mongo_database(rest))
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(rest))
    # Never echo the URL: it may carry credentials.
    raise ValueError(f"unsupported store URL scheme {scheme!r}: use {_SUPPORTED}")


def _sqlite_path(rest: str) -> Path:
    if not rest.startswith("/") or rest == "/":
        raise ValueError(
            "a SQLite store URL needs a file: sqlite:///relative/name.db or sqlite:////absolute/name.db"
        )
    path = unquote(rest[1:].partition("?")[0])
    if path in (":memory:", "") or path.endswith("/"):
        raise ValueError(
            f"a SQLite store URL needs a file name, not {path!r} (use memory:// for no persistence)"
        )
    return Path(path).expanduser()


def _mongo_database(rest: str) -> str:
    """The database named in ``host[:port][,...]/database?options``, or the default."""
    _hosts, slash, tail = rest.partition("/")
    name = unquote(tail.partition("?")[0]) if slash else ""
    if not name:
        return DEFAULT_MONGO_DATABASE
    if any(c in name for c in '/\\. "$') or len(name) > 63:
        raise ValueError(f"{name!r} is not a valid MongoDB database name")
    return name
