"""Snapshots: a table saved as plain data and restored is the same table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crowdfill.model import CandidateTable, Downvote, Fill, Insert, MalformedMessage, Retract, Upvote
from crowdfill.model.snapshot import restore, snapshot
from tests.model.support import MESSI, NEYMAR, Builder, soccer_table, values


def populated() -> tuple[CandidateTable, Builder]:
    table = soccer_table()
    build = Builder(table)
    messi = build.row_with("w1", MESSI)
    build.upvote("w2", messi)
    neymar = build.row_with("w3", NEYMAR)
    build.downvote("w4", neymar)
    build.fill("w5", neymar, "position", "FW")  # the downvoted row is now replaced
    # Two concurrent fills of one row: the second arrives after the first replaced it.
    base = build.insert({"nationality": "Spain"})
    table.apply(Fill("w6", base, "x1", "name", "Xavi", frozenset()))
    table.apply(Fill("w7", base, "x2", "name", "Xabi", frozenset()))
    return table, build


def restored(table: CandidateTable) -> CandidateTable:
    state = json.loads(json.dumps(snapshot(table)))  # snapshots are stored as JSON
    return restore(table.schema, table.scoring, table.template, state)


def test_a_restored_snapshot_has_the_same_fingerprint_including_replaced_rows_and_votes() -> None:
    table, _ = populated()
    copy = restored(table)
    assert copy.fingerprint() == table.fingerprint()
    assert copy.removed_ids() == table.removed_ids()
    assert {row.row_id: row.values for row in copy.all_rows()} == {
        row.row_id: row.values for row in table.all_rows()
    }
    assert copy.vote_records() == table.vote_records()
    assert [row.row_id for row in copy.final_table()] == [row.row_id for row in table.final_table()]


def test_a_restored_table_goes_on_like_the_original() -> None:
    table, _ = populated()
    copy = restored(table)
    neymar_fw = next(
        row.row_id
        for row in table.rows()
        if ("position", "FW") in row.values and ("name", "Neymar") in row.values
    )
    for replica in (table, copy):
        replica.apply(Fill("w9", neymar_fw, "n9", "caps", 128, frozenset()))
        replica.apply(Fill("w9", "n9", "n10", "goals", 79, frozenset()))
        replica.apply(Upvote("w10", "n10", frozenset()))
        with pytest.raises(MalformedMessage):
            replica.apply(Downvote("w4", "", frozenset()))
    assert copy.fingerprint() == table.fingerprint()
    assert copy.down("n10") == 1  # w4's downvote on the partial Neymar row still counts


def test_a_snapshot_keeps_a_replaced_row_the_table_never_saw_added() -> None:
    table = soccer_table()
    table.integrate(Fill("w1", "ghost", "r2", "name", "Kaká", values({"name": "Kaká"})))
    copy = restored(table)
    assert copy.removed_ids() == {"ghost"}
    copy.integrate(Insert("ghost", frozenset()))  # arriving late, it stays replaced
    assert [row.row_id for row in copy.rows()] == ["r2"]


def test_a_closed_table_is_restored_closed() -> None:
    table, _ = populated()
    table.close()
    assert restored(table).closed


def test_an_empty_table_round_trips() -> None:
    table = soccer_table()
    assert restored(table).fingerprint() == table.fingerprint()


def _state() -> dict[str, Any]:
    table, _ = populated()
    return json.loads(json.dumps(snapshot(table)))  # type: ignore[no-any-return]  # JSON is Any


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s.update(format=99), "unknown snapshot format 99"),
        (lambda s: s.pop("rows"), "field 'rows' must be a list"),
        (lambda s: s.update(removed="r1"), "field 'removed' must be a list"),
        (lambda s: s["rows"].append({"values": {}}), "non-empty string row_id"),
        (lambda s: s["rows"].append({"row_id": "z", "values": {"club": "x"}}), "does not fit the schema"),
        (
            lambda s: s["rows"].append({"row_id": "z", "values": {"name": " padded "}}),
            "not in canonical form",
        ),
        (
            lambda s: s["votes"].append({"worker": "w", "kind": "sideways", "values": {}}),
            "kind 'up' or 'down'",
        ),
        (
            lambda s: s["votes"].append({"worker": "w", "kind": "up", "values": "x"}),
            "values must be an object",
        ),
        (lambda s: s["removed"].append(3), "removed row ids must be non-empty strings"),
        (lambda s: s.update(retracted={}), "field 'retracted' must be a list"),
        (
            lambda s: s["retracted"].append({"worker": "w", "kind": "sideways", "values": {}}),
            "a retracted vote needs a worker and kind",
        ),
    ],
)
def test_a_damaged_snapshot_is_refused_with_a_clear_error(damage: Any, message: str) -> None:
    state = _state()
    damage(state)
    table = soccer_table()
    with pytest.raises(MalformedMessage, match=message):
        restore(table.schema, table.scoring, table.template, state)


def test_a_snapshot_that_is_not_an_object_is_refused() -> None:
    table = soccer_table()
    with pytest.raises(MalformedMessage, match="unknown snapshot format"):
        restore(table.schema, table.scoring, table.template, [])  # type: ignore[arg-type]  # bad input


def test_a_snapshot_carries_the_tombstones_of_retracted_votes() -> None:
    table, build = populated()
    messi = next(row.row_id for row in table.rows() if ("name", "Messi") in row.values)
    upvote = Upvote("w2", messi, values(MESSI))  # as w2 cast it in populated()
    build.apply(Retract("w2", messi))
    copy = restored(table)
    assert copy.fingerprint() == table.fingerprint()
    assert copy.retractions() == [("w2", "up", values(MESSI))]
    # The tombstone still wins over the vote if a replica meets the vote again.
    assert copy.integrate(upvote) == []
    assert copy.upvoters(messi) == {"w1"}


def test_a_snapshot_from_before_retracts_restores_with_no_tombstones() -> None:
    table, _ = populated()
    state = json.loads(json.dumps(snapshot(table)))
    del state["retracted"]
    copy = restore(table.schema, table.scoring, table.template, state)
    assert copy.fingerprint() == table.fingerprint()
    assert copy.retractions() == []
