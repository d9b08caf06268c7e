"""The storage contract: every adapter (SQLite, in-memory, MongoDB when configured) passes all of it."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdfill.store import (
    JSON,
    LogRecord,
    Store,
    StoreConflict,
    StoreError,
    TableRecord,
    UnknownTable,
)
from tests.store.backends import Backend

DEFINITION: JSON = {"schema": {"columns": [{"name": "name", "type": "text"}]}, "budget_cents": 1000}


def table(table_id: str = "t1", created_at: float = 100.0, status: str = "draft") -> TableRecord:
    return TableRecord(table_id, DEFINITION, status, created_at, created_at)


def op(seq: int) -> JSON:
    return {
        "type": "upvote",
        "worker": f"w{seq}",
        "row_id": f"r{seq}",
        "values": {"name": "Messi", "caps": seq},
    }


def records(first: int, last: int) -> list[LogRecord]:
    return [LogRecord(seq, op(seq), 1000.0 + seq / 8) for seq in range(first, last + 1)]


async def stored_table(store: Store, table_id: str = "t1", last_seq: int = 0) -> str:
    await store.create_table(table(table_id))
    if last_seq:
        await store.append(table_id, records(1, last_seq))
    return table_id


# -- tables ---------------------------------------------------------------------------------------


async def test_a_created_table_reads_back_as_stored(store: Store) -> None:
    await store.create_table(table("t1"))
    assert await store.get_table("t1") == table("t1")


async def test_creating_a_table_with_an_existing_id_is_a_conflict_that_keeps_the_first(store: Store) -> None:
    await store.create_table(table("t1", status="draft"))
    with pytest.raises(StoreConflict, match="t1"):
        await store.create_table(table("t1", status="live"))
    stored = await store.get_table("t1")
    assert stored is not None
    assert stored.status == "draft"


async def test_tables_are_listed_oldest_first_with_ties_ordered_by_id(store: Store) -> None:
    for table_id, created_at in [("c", 3.0), ("b", 1.0), ("z", 2.0), ("a", 2.0)]:
        await store.create_table(table(table_id, created_at))
    assert [t.table_id for t in await store.list_tables()] == ["b", "a", "z", "c"]


async def test_an_empty_store_lists_no_tables(store: Store) -> None:
    assert await store.list_tables() == []


async def test_updating_a_table_replaces_its_definition_and_status_and_stamps_the_time(store: Store) -> None:
    await store.create_table(table("t1"))
    new_definition: JSON = {"schema": {"columns": []}, "budget_cents": 5}
    updated = await store.update_table("t1", definition=new_definition, status="live", at=200.5)
    assert updated == TableRecord("t1", new_definition, "live", 100.0, 200.5)
    assert await store.get_table("t1") == updated


async def test_updating_only_the_status_keeps_the_definition(store: Store) -> None:
    await store.create_table(table("t1"))
    updated = await store.update_table("t1", status="closed", at=300.0)
    assert updated.definition == DEFINITION
    assert updated.status == "closed"
    assert updated.updated_at == 300.0


async def test_updating_an_unknown_table_raises_unknown_table(store: Store) -> None:
    with pytest.raises(UnknownTable, match="nope"):
        await store.update_table("nope", status="live", at=1.0)


async def test_an_unknown_table_reads_as_nothing(store: Store) -> None:
    assert await store.get_table("nope") is None
    assert await store.read_log("nope") == []
    assert await store.last_seq("nope") == 0
    assert await store.load_snapshot("nope") is None


async def test_appending_to_or_snapshotting_an_unknown_table_raises_unknown_table(store: Store) -> None:
    with pytest.raises(UnknownTable, match="nope"):
        await store.append("nope", records(1, 1))
    with pytest.raises(UnknownTable, match="nope"):
        await store.save_snapshot("nope", 0, {"rows": []})
    assert await store.read_log("nope") == []


# -- the log --------------------------------------------------------------------------------------


async def test_appended_batches_read_back_in_order(store: Store) -> None:
    await stored_table(store)
    await store.append("t1", records(1, 3))
    await store.append("t1", records(4, 4))
    await store.append("t1", records(5, 9))
    assert await store.read_log("t1") == records(1, 9)


async def test_read_log_starts_after_the_given_seq_and_honours_the_limit(store: Store) -> None:
    await stored_table(store, last_seq=10)
    assert await store.read_log("t1", after_seq=7) == records(8, 10)
    assert await store.read_log("t1", after_seq=2, limit=3) == records(3, 5)
    assert await store.read_log("t1", limit=1) == records(1, 1)
    assert await store.read_log("t1", after_seq=3, limit=0) == []
    assert await store.read_log("t1", after_seq=10) == []
    assert await store.read_log("t1", after_seq=50, limit=5) == []


async def test_a_negative_limit_is_refused(store: Store) -> None:
    await stored_table(store, last_seq=2)
    with pytest.raises(ValueError, match="limit"):
        await store.read_log("t1", limit=-1)


async def test_last_seq_is_zero_for_an_empty_log_and_follows_appends(store: Store) -> None:
    await stored_table(store)
    assert await store.last_seq("t1") == 0
    await store.append("t1", records(1, 4))
    assert await store.last_seq("t1") == 4
    await store.append("t1", records(5, 5))
    assert await store.last_seq("t1") == 5


async def test_an_empty_batch_changes_nothing(store: Store) -> None:
    await stored_table(store, last_seq=2)
    await store.append("t1", [])
    await store.append("nope", [])
    assert await store.read_log("t1") == records(1, 2)
    assert await store.get_table("nope") is None


@pytest.mark.parametrize(
    ("description", "seqs"),
    [
        ("starts with a gap", [5, 6]),
        ("repeats the last stored seq", [3, 4]),
        ("restarts the log", [1]),
        ("starts at zero", [0, 1]),
        ("has a gap inside", [4, 5, 7]),
        ("repeats a seq inside", [4, 5, 5]),
        ("goes backwards inside", [4, 6, 5]),
    ],
)
async def test_a_batch_that_does_not_continue_the_log_is_refused_and_changes_nothing(
    store: Store, description: str, seqs: list[int]
) -> None:
    await stored_table(store, last_seq=3)
    batch = [LogRecord(seq, {"bad": description}, 9.0) for seq in seqs]
    with pytest.raises(StoreConflict, match="t1"):
        await store.append("t1", batch)
    assert await store.read_log("t1") == records(1, 3)
    assert await store.last_seq("t1") == 3


async def test_a_batch_with_a_payload_json_cannot_hold_is_refused_and_changes_nothing(store: Store) -> None:
    await stored_table(store, last_seq=1)
    with pytest.raises(ValueError, match="JSON"):
        await store.append("t1", [*records(2, 2), LogRecord(3, {"value": math.nan}, 1.0)])
    with pytest.raises(TypeError):
        await store.append("t1", [*records(2, 2), LogRecord(3, {"value": {1, 2}}, 1.0)])
    assert await store.read_log("t1") == records(1, 1)


async def test_payloads_read_back_as_after_a_json_round_trip(store: Store) -> None:
    await stored_table(store)
    payload: dict[str, Any] = {
        "tuple": (1, 2),
        "big": 2**80,
        "float": 0.1,
        "unicode": "Jos\u00e9 \U0001f600 \ud800",
        "$column.with.dots": {"nested": [None, True, -0.5]},
    }
    await store.append("t1", [LogRecord(1, payload, 1.25)])
    [record] = await store.read_log("t1")
    assert record.operation == {**payload, "tuple": [1, 2]}
    assert record.at == 1.25


async def test_logs_of_different_tables_are_independent(store: Store) -> None:
    await stored_table(store, "a", last_seq=3)
    await stored_table(store, "b", last_seq=1)
    await store.append("b", records(2, 2))
    assert await store.last_seq("a") == 3
    assert await store.read_log("b") == records(1, 2)


async def test_of_two_concurrent_appends_of_the_same_seqs_exactly_one_wins(store: Store) -> None:
    await stored_table(store, last_seq=1)
    first = [LogRecord(2, {"from": "first"}, 1.0), LogRecord(3, {"from": "first"}, 1.0)]
    second = [LogRecord(2, {"from": "second"}, 1.0)]
    outcomes = await asyncio.gather(
        store.append("t1", first), store.append("t1", second), return_exceptions=True
    )
    assert sum(isinstance(outcome, StoreConflict) for outcome in outcomes) == 1
    assert sum(outcome is None for outcome in outcomes) == 1
    log = await store.read_log("t1")
    assert log in (records(1, 1) + first, records(1, 1) + second)


# -- snapshots ------------------------------------------------------------------------------------


async def test_a_table_without_a_snapshot_loads_none(store: Store) -> None:
    await stored_table(store)
    assert await store.load_snapshot("t1") is None


async def test_a_saved_snapshot_replaces_the_previous_one(store: Store) -> None:
    await stored_table(store, last_seq=5)
    await store.save_snapshot("t1", 2, {"rows": ["a"]})
    assert await store.load_snapshot("t1") == (2, {"rows": ["a"]})
    await store.save_snapshot("t1", 5, {"rows": ["a", "b"]})
    assert await store.load_snapshot("t1") == (5, {"rows": ["a", "b"]})


async def test_a_snapshot_at_seq_zero_of_an_empty_log_is_kept(store: Store) -> None:
    await stored_table(store)
    await store.save_snapshot("t1", 0, {"rows": []})
    assert await store.load_snapshot("t1") == (0, {"rows": []})


async def test_a_snapshot_older_than_the_stored_one_is_a_no_op(store: Store) -> None:
    await stored_table(store, last_seq=5)
    await store.save_snapshot("t1", 4, {"rows": ["newer"]})
    await store.save_snapshot("t1", 2, {"rows": ["older, landing late"]})
    assert await store.load_snapshot("t1") == (4, {"rows": ["newer"]})
    await store.save_snapshot("t1", 4, {"rows": ["same seq"]})
    assert await store.load_snapshot("t1") == (4, {"rows": ["same seq"]})
    await store.save_snapshot("t1", 5, {"rows": ["newest"]})
    assert await store.load_snapshot("t1") == (5, {"rows": ["newest"]})


@pytest.mark.parametrize("seq", [4, -1])
async def test_a_snapshot_outside_the_stored_log_is_refused(store: Store, seq: int) -> None:
    await stored_table(store, last_seq=3)
    await store.save_snapshot("t1", 1, {"rows": ["kept"]})
    with pytest.raises(StoreConflict, match="snapshot"):
        await store.save_snapshot("t1", seq, {"rows": []})
    assert await store.load_snapshot("t1") == (1, {"rows": ["kept"]})


# -- items ----------------------------------------------------------------------------------------


async def test_items_are_upserted_read_listed_by_key_and_deleted(store: Store) -> None:
    for key in ["b", "a", "\u00e9", "Z", "10", "9", "\U0001f600"]:
        await store.put_item("t1", "link", key, {"key": key, "version": 1})
    await store.put_item("t1", "link", "a", {"key": "a", "version": 2})
    assert await store.get_item("t1", "link", "a") == {"key": "a", "version": 2}
    listed = await store.list_items("t1", "link")
    assert [key for key, _ in listed] == ["10", "9", "Z", "a", "b", "\u00e9", "\U0001f600"]
    assert dict(listed)["b"] == {"key": "b", "version": 1}
    assert await store.delete_item("t1", "link", "a") is True
    assert await store.get_item("t1", "link", "a") is None
    assert "a" not in dict(await store.list_items("t1", "link"))


async def test_deleting_a_missing_item_reports_false(store: Store) -> None:
    assert await store.delete_item("t1", "link", "nope") is False


async def test_items_are_separated_by_table_and_kind(store: Store) -> None:
    await store.put_item("t1", "link", "k", {"v": 1})
    await store.put_item("t1", "block", "k", {"v": 2})
    await store.put_item("t2", "link", "k", {"v": 3})
    await store.put_item("", "settings", "token", {"v": 4})
    assert await store.get_item("t1", "link", "k") == {"v": 1}
    assert await store.list_items("t1", "block") == [("k", {"v": 2})]
    assert await store.list_items("t2", "link") == [("k", {"v": 3})]
    assert await store.get_item("", "settings", "token") == {"v": 4}
    assert await store.list_items("t3", "link") == []


# -- lifecycle ------------------------------------------------------------------------------------


async def test_opening_an_open_store_again_changes_nothing(store: Store) -> None:
    await stored_table(store, last_seq=2)
    await store.open()
    assert await store.read_log("t1") == records(1, 2)


async def test_a_closed_store_refuses_calls_with_a_store_error(backend: Backend) -> None:
    closed = backend.make()
    await closed.open()
    await closed.close()
    await closed.close()
    with pytest.raises(StoreError, match="not open"):
        await closed.list_tables()
    with pytest.raises(StoreError, match="not open"):
        await closed.append("t1", records(1, 1))


async def test_reopening_a_persistent_store_sees_everything(persistent_backend: Backend) -> None:
    first = persistent_backend.make()
    await first.open()
    await first.create_table(table("t1"))
    await first.append("t1", records(1, 7))
    await first.save_snapshot("t1", 4, {"rows": [1, 2]})
    await first.update_table("t1", status="live", at=150.0)
    await first.put_item("t1", "link", "w1", {"token": "abc"})
    await first.close()

    second = persistent_backend.make()
    await second.open()
    try:
        assert await second.list_tables() == [TableRecord("t1", DEFINITION, "live", 100.0, 150.0)]
        assert await second.read_log("t1") == records(1, 7)
        assert await second.last_seq("t1") == 7
        assert await second.load_snapshot("t1") == (4, {"rows": [1, 2]})
        assert await second.list_items("t1", "link") == [("w1", {"token": "abc"})]
        await second.append("t1", records(8, 8))
        assert await second.last_seq("t1") == 8
    finally:
        await second.close()


# -- properties -----------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=()), max_size=12)
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
_operations = st.dictionaries(st.text(max_size=8), _json, max_size=5)
_batches = st.lists(
    st.lists(st.tuples(_operations, st.floats(0, 4e9)), max_size=8),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=40,
    deadline=None,
    # The store is shared by the examples on purpose: each example writes its own table.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=_batches, after_seq=st.integers(-2, 45), limit=st.none() | st.integers(0, 45))
async def test_random_batches_read_back_identically(
    store: Store, batches: list[list[tuple[JSON, float]]], after_seq: int, limit: int | None
) -> None:
    table_id = f"t-{uuid.uuid4().hex}"
    await store.create_table(table(table_id))
    written: list[LogRecord] = []
    for batch in batches:
        new = [LogRecord(len(written) + i, payload, at) for i, (payload, at) in enumerate(batch, start=1)]
        await store.append(table_id, new)
        written.extend(new)
    assert await store.read_log(table_id) == written
    assert await store.last_seq(table_id) == len(written)
    start = max(after_seq, 0)
    expected = written[start:] if limit is None else written[start : start + limit]
    assert await store.read_log(table_id, after_seq=after_seq, limit=limit) == expected
