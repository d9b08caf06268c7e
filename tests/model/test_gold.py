"""Gold rows in the candidate table: votable like any row, in no key group (Insert.gold)."""

from __future__ import annotations

import pytest

from crowdfill.model import (
    CandidateTable,
    CellAlreadyFilled,
    Downvote,
    Fill,
    Insert,
    MalformedMessage,
    Status,
    Upvote,
    Value,
    values_from_mapping,
)
from crowdfill.model.codec import operation_from_wire, operation_to_wire
from crowdfill.model.snapshot import restore, snapshot
from tests.model.support import soccer_table

NEYMAR_ROW: dict[str, Value] = {
    "name": "Neymar",
    "nationality": "Brazil",
    "position": "FW",
    "caps": 128,
    "goals": 79,
}
FAKE_NEYMAR: dict[str, Value] = {**NEYMAR_ROW, "goals": 3}


def gold(table: CandidateTable, row_id: str, values: dict[str, Value]) -> None:
    table.apply(Insert(row_id, values_from_mapping(values), gold=True))


def real(table: CandidateTable, row_id: str, values: dict[str, Value]) -> None:
    table.apply(Insert(row_id, values_from_mapping(values)))


def upvote(table: CandidateTable, row_id: str, *workers: str) -> None:
    for worker in workers:
        table.apply(Upvote(worker, row_id, frozenset()))


def test_votes_on_a_gold_row_are_recorded_but_it_never_enters_the_final_table() -> None:
    table = soccer_table()
    gold(table, "g1", NEYMAR_ROW)
    upvote(table, "g1", "w1", "w2", "w3")
    assert table.up("g1") == 3
    assert {(w, k) for w, k, _ in table.vote_records()} == {("w1", "up"), ("w2", "up"), ("w3", "up")}
    assert table.final_table() == []
    assert table.status("g1") is Status.GREEN  # as any row with those votes looks to a voter
    assert table.is_gold("g1")
    assert table.gold_ids() == {"g1"}
    assert list(table.groups()) == []


def test_a_gold_row_with_a_real_rows_key_changes_neither_its_status_nor_the_final_table() -> None:
    table = soccer_table()
    real(table, "r1", NEYMAR_ROW)
    gold(table, "g1", FAKE_NEYMAR)
    upvote(table, "r1", "w1", "w2")
    upvote(table, "g1", "w1", "w2", "w3", "w4")  # the gold row outscores the real one
    assert table.status("r1") is Status.GREEN
    assert [row.row_id for row in table.final_table()] == ["r1"]
    assert [row.row_id for row in table.group_rows(table.group_of("r1"))] == ["r1"]
    table.apply(Downvote("w5", "g1", frozenset()))
    assert table.down("r1") == 0


def test_a_gold_row_with_one_real_rows_values_does_not_hide_the_other_values_of_its_group() -> None:
    # The group's rows with NEYMAR_ROW's values and the gold row are as many as the group's rows:
    # the group still holds a row of other values, and the smallest id is that row.
    table = soccer_table()
    real(table, "r2", NEYMAR_ROW)
    real(table, "r1", FAKE_NEYMAR)
    gold(table, "g1", NEYMAR_ROW)
    upvote(table, "r2", "w1", "w2")
    assert [row.row_id for row in table.final_table()] == ["r2"]
    upvote(table, "r1", "w3", "w4", "w5")
    assert [row.row_id for row in table.final_table()] == ["r1"]


def test_a_gold_row_cannot_be_filled_and_must_be_complete() -> None:
    table = soccer_table()
    gold(table, "g1", NEYMAR_ROW)
    with pytest.raises(CellAlreadyFilled):
        table.apply(Fill("w1", "g1", "n1", "goals", 5, frozenset()))
    with pytest.raises(MalformedMessage, match="must be complete"):
        gold(table, "g2", {"name": "Neymar"})


def test_a_gold_insert_keeps_its_flag_through_the_codec_and_a_snapshot() -> None:
    op = Insert("g1", values_from_mapping(NEYMAR_ROW), gold=True)
    assert operation_to_wire(op)["gold"] is True
    assert "gold" not in operation_to_wire(Insert("r1", values_from_mapping(NEYMAR_ROW)))
    assert operation_from_wire(operation_to_wire(op)) == op
    table = soccer_table()
    table.apply(op)
    upvote(table, "g1", "w1")
    copy = restore(table.schema, table.scoring, table.template, snapshot(table))
    assert copy.gold_ids() == {"g1"}
    assert copy.fingerprint() == table.fingerprint()
