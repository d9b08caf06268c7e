"""open_store: which adapter each store URL names, and clear refusals for the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from crowdfill.store import MemoryStore, MongoStore, PostgresStore, SQLiteStore, open_store
from tests.support.imports import in_fresh_interpreter


def test_memory_url_gives_an_in_memory_store() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://localhost:27017", "crowdfill"),
        ("mongodb://user:secret@h1,h2/?replicaSet=rs0", "crowdfill"),
        ("mongodb://localhost/collect?retryWrites=true", "collect"),
        ("mongodb+srv://cluster.example.net/prod", "prod"),
    ],
)
def test_mongodb_urls_give_a_mongo_store_on_the_named_database(url: str, database: str) -> None:
    store = open_store(url)
    assert isinstance(store, MongoStore)
    assert store.database == database
    assert "secret" not in repr(store)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/crowd.db", Path("data/crowd.db")),
        ("sqlite:////var/lib/crowdfill/crowd.db", Path("/var/lib/crowdfill/crowd.db")),
        ("data/crowd.db", Path("data/crowd.db")),
        ("/srv/crowd.db", Path("/srv/crowd.db")),
        ("  sqlite:///with%20space.db  ", Path("with space.db")),
    ],
)
def test_sqlite_urls_and_plain_paths_give_a_sqlite_store_at_that_file(url: str, path: Path) -> None:
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == path


@pytest.mark.parametrize("url", ["", None, "   "])
def test_no_url_gives_the_default_sqlite_file_in_the_data_directory(url: str | None, tmp_path: Path) -> None:
    store = open_store(url, tmp_path)
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "crowdfill.sqlite3"


def test_no_url_and_no_data_directory_is_refused() -> None:
    with pytest.raises(ValueError, match="data directory"):
        open_store("")


@pytest.mark.parametrize(
    "url", ["postgresql://admin:hunter2@db:5432/crowd", "POSTGRES://db/crowd?sslmode=require"]
)
def test_postgresql_urls_give_a_postgresql_store_that_never_shows_the_url(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    assert "hunter2" not in repr(store)


def test_an_unknown_scheme_is_refused_naming_the_scheme_but_not_the_credentials() -> None:
    with pytest.raises(ValueError, match="'mysql'") as refused:
        open_store("mysql://admin:hunter2@db/crowd")
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite://", "needs a file"),
        ("sqlite:///", "needs a file"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///data/", "file name"),
        ("memory://somewhere", "just 'memory://'"),
        ("mongodb://localhost/bad.name", "database name"),
    ],
)
def test_malformed_store_urls_are_refused_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        open_store(url)


def test_importing_the_store_and_opening_sqlite_imports_no_database_driver() -> None:
    # A fresh interpreter: this test process has imported both adapters already (see above).
    probe = (
        "import sys; from crowdfill.store import open_store; open_store(None, data_dir='.');"
        "print(sorted({'pymongo', 'psycopg', 'bson'} & set(sys.modules)))"
    )
    result = in_fresh_interpreter(probe)
    assert result.stdout.strip() == "[]"


def test_an_unknown_name_of_the_store_package_is_an_attribute_error() -> None:
    import crowdfill.store

    with pytest.raises(AttributeError, match="RedisStore"):
        _ = crowdfill.store.RedisStore
