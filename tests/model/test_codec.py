"""The wire codec: every operation and event survives JSON, and bad payloads get clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model import (
    Downvote,
    Event,
    Fill,
    GroupKey,
    GroupRescored,
    Insert,
    MalformedMessage,
    Operation,
    Retract,
    Row,
    RowInserted,
    RowReplaced,
    Upvote,
    Value,
    Values,
    VoteRecorded,
    VoteRetracted,
)
from crowdfill.model.codec import event_from_wire, event_to_wire, operation_from_wire, operation_to_wire

ids = st.text(min_size=1, max_size=40)
scalars: st.SearchStrategy[Value] = st.one_of(
    st.text(max_size=20),
    st.integers(-(10**17), 10**17),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
row_values: st.SearchStrategy[Values] = st.dictionaries(
    st.text(min_size=1, max_size=10), scalars, max_size=6
).map(lambda mapping: frozenset(mapping.items()))
operations: st.SearchStrategy[Operation] = st.one_of(
    st.builds(Insert, ids, row_values, ids),
    st.builds(Fill, ids, ids, ids, ids, scalars, row_values, st.booleans()),
    st.builds(Upvote, ids, ids, row_values),
    st.builds(Downvote, ids, ids, row_values),
    st.builds(Retract, ids, ids, row_values, st.sampled_from([None, "up", "down"])),
)
rows = st.builds(Row, ids, row_values)
groups: st.SearchStrategy[GroupKey] = st.one_of(
    st.tuples(st.just("key"), st.lists(scalars, min_size=1, max_size=3).map(tuple)),
    st.tuples(st.just("row"), ids),
)
events: st.SearchStrategy[Event] = st.one_of(
    st.builds(RowInserted, rows),
    st.builds(RowReplaced, ids, rows, st.booleans()),
    st.builds(VoteRecorded, ids, st.sampled_from(["up", "down"]), row_values, ids),
    st.builds(GroupRescored, groups),
    st.builds(VoteRetracted, ids, st.sampled_from(["up", "down"]), row_values, ids),
)


def through_json(data: dict[str, Any]) -> object:
    return json.loads(json.dumps(data, allow_nan=False))


@settings(deadline=None)  # no per-example deadline: CI machines are shared
@given(operations)
def test_every_operation_survives_a_trip_through_json(op: Operation) -> None:
    assert operation_from_wire(through_json(operation_to_wire(op))) == op


@settings(deadline=None)  # no per-example deadline: CI machines are shared
@given(events)
def test_every_event_survives_a_trip_through_json(event: Event) -> None:
    assert event_from_wire(through_json(event_to_wire(event))) == event


def test_a_fill_is_encoded_with_every_field_a_replica_needs() -> None:
    fill = Fill("w1", "r1", "r2", "caps", 3, frozenset({("caps", 3), ("name", "Xavi")}), upvote=True)
    assert operation_to_wire(fill) == {
        "type": "fill",
        "worker": "w1",
        "row_id": "r1",
        "new_row_id": "r2",
        "column": "caps",
        "value": 3,
        "values": {"caps": 3, "name": "Xavi"},
        "upvote": True,
    }


def test_a_client_may_leave_out_the_values_and_upvote_flag_the_server_computes() -> None:
    fill = operation_from_wire(
        {"type": "fill", "worker": "w", "row_id": "r1", "new_row_id": "r2", "column": "c", "value": "x"}
    )
    assert fill == Fill("w", "r1", "r2", "c", "x", frozenset(), upvote=False)
    assert operation_from_wire({"type": "upvote", "worker": "w", "row_id": "r1"}) == Upvote(
        "w", "r1", frozenset()
    )


def test_a_client_retract_names_only_the_row_and_the_server_adds_values_and_kind() -> None:
    assert operation_from_wire({"type": "retract", "worker": "w", "row_id": "r1"}) == Retract("w", "r1")
    canonical = Retract("w", "r1", frozenset({("name", "Xavi")}), "down")
    assert operation_to_wire(canonical) == {
        "type": "retract",
        "worker": "w",
        "row_id": "r1",
        "values": {"name": "Xavi"},
        "kind": "down",
    }


FILL = {"type": "fill", "worker": "w", "row_id": "r1", "new_row_id": "r2", "column": "c", "value": "x"}

BAD_OPERATIONS: list[tuple[object, str]] = [
    ([1, 2], "must be a JSON object, got list"),
    ("upvote", "must be a JSON object, got str"),
    ({"worker": "w", "row_id": "r"}, "field 'type' must be a non-empty string"),
    ({"type": "delete", "worker": "w", "row_id": "r"}, "unknown operation type 'delete'"),
    ({"type": "upvote", "row_id": "r"}, "field 'worker' must be a non-empty string"),
    ({"type": "upvote", "worker": "", "row_id": "r"}, "field 'worker' must be a non-empty string"),
    ({"type": "upvote", "worker": 7, "row_id": "r"}, "field 'worker' must be a non-empty string, got 7"),
    ({"type": "upvote", "worker": "w", "row_id": "r" * 201}, "field 'row_id' is longer than 200"),
    ({"type": "insert", "worker": "w", "row_id": "r"}, "field 'values' must be an object"),
    ({"type": "insert", "worker": "w", "row_id": "r", "values": ["a"]}, "field 'values' must be an object"),
    (
        {"type": "insert", "worker": "w", "row_id": "r", "values": {"a": [1]}},
        "column 'a' has a non-scalar value",
    ),
    (
        {"type": "insert", "worker": "w", "row_id": "r", "values": {"a": None}},
        "column 'a' has a non-scalar value",
    ),
    ({**FILL, "value": None}, "field 'value' must be a string, number or boolean"),
    ({**FILL, "value": {"x": 1}}, "field 'value' must be a string, number or boolean"),
    ({**FILL, "new_row_id": None}, "field 'new_row_id' must be a non-empty string"),
    ({**FILL, "upvote": "yes"}, "field 'upvote' must be true or false"),
    ({**FILL, "column": ""}, "field 'column' must be a non-empty string"),
    ({"type": "retract", "worker": "w", "row_id": "r", "kind": "sideways"}, "'up' or 'down'"),
    ({"type": "retract", "worker": "w"}, "field 'row_id' must be a non-empty string"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_OPERATIONS)
def test_a_malformed_operation_is_refused_with_an_error_naming_the_problem(
    payload: object, message: str
) -> None:
    with pytest.raises(MalformedMessage) as raised:
        operation_from_wire(payload)
    assert message in raised.value.message
    assert raised.value.code == "malformed"


BAD_EVENTS: list[tuple[object, str]] = [
    (None, "must be a JSON object, got NoneType"),
    ({"type": "row_deleted"}, "unknown event type 'row_deleted'"),
    ({"type": "row_inserted"}, "must be a JSON object"),
    ({"type": "row_inserted", "row": {"row_id": "r"}}, "field 'values' must be an object"),
    ({"type": "row_replaced", "old_row_id": "r", "row": {"row_id": "s", "values": {}}}, "field 'removed'"),
    (
        {"type": "vote_recorded", "worker": "w", "kind": "sideways", "values": {}, "row_id": "r"},
        "'up' or 'down'",
    ),
    ({"type": "group_rescored", "group": ["key"]}, "two-element list"),
    ({"type": "group_rescored", "group": ["row", 3]}, "bad group"),
    ({"type": "group_rescored", "group": ["key", [[1]]]}, "bad group"),
    ({"type": "group_rescored", "group": ["table", "x"]}, "bad group"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_EVENTS)
def test_a_malformed_event_is_refused_with_an_error_naming_the_problem(payload: object, message: str) -> None:
    with pytest.raises(MalformedMessage, match=None) as raised:
        event_from_wire(payload)
    assert message in raised.value.message
