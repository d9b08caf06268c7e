"""What can be checked of the MongoDB adapter without a server (the contract suite needs one)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from crowdfill.store import MongoStore, StoreError
from crowdfill.store.mongo import supports_transactions


# PyMongo 4.20 leaks the socket of a connection attempt that client.close() cancels (fixed upstream:
# PYTHON-5867, "Close sockets on interruption or cancellation during async connection creation").
# The warning is PyMongo's, so it is ignored here, and collected here rather than in a later test.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_an_unreachable_server_fails_to_open_with_a_store_error() -> None:
    store = MongoStore("mongodb://127.0.0.1:9/?connectTimeoutMS=200", server_selection_timeout_ms=300)
    with pytest.raises(StoreError, match="MongoDB unavailable"):
        await store.open()
    with pytest.raises(StoreError, match="not open"):
        await store.last_seq("t1")
    await store.close()
    await asyncio.sleep(0.05)
    gc.collect()


async def test_a_malformed_url_fails_to_open_with_a_store_error() -> None:
    store = MongoStore("mongodb://host:notaport")
    with pytest.raises(StoreError, match="MongoDB URL refused"):
        await store.open()


async def test_calls_before_open_are_refused_with_a_store_error() -> None:
    store = MongoStore("mongodb://127.0.0.1:9")
    with pytest.raises(StoreError, match="not open"):
        await store.read_log("t1")
    with pytest.raises(StoreError, match="not open"):
        await store.append("t1", [])


@pytest.mark.parametrize(
    ("hello", "expected"),
    [
        ({"isWritablePrimary": True, "setName": "rs0", "logicalSessionTimeoutMinutes": 30}, True),
        ({"isWritablePrimary": True, "msg": "isdbgrid", "logicalSessionTimeoutMinutes": 30}, True),
        ({"isWritablePrimary": True, "logicalSessionTimeoutMinutes": 30}, False),
        ({"isWritablePrimary": True, "setName": "rs0"}, False),
    ],
)
def test_appends_use_transactions_only_on_replica_sets_and_sharded_clusters(
    hello: dict[str, object], expected: bool
) -> None:
    assert supports_transactions(hello) is expected
