from __future__ import annotations

from typing import Any

import pytest

from crowdfill.export import ExportError, fields_for_schema, rows_from_api, rows_from_table
from crowdfill.export.fields import What
from crowdfill.export.rows import contributions
from crowdfill.model import Fill, Retract, Value
from tests.export.support import PEOPLE, TABLE, Crowd, FakeServer

FIELDS = fields_for_schema(PEOPLE)
MESSI: dict[str, Value] = {"name": "Messi", "born": "1987-06-24", "caps": 83, "height": 1.7, "active": True}


def collected() -> tuple[Crowd, str, str]:
    crowd = Crowd()
    messi = crowd.row("w1", MESSI)
    crowd.upvote("w2", messi)
    partial = crowd.row("w3", {"name": "Neymar"})
    crowd.downvote("w4", partial)
    return crowd, messi, partial


def test_the_final_table_exports_its_rows_with_counts_status_and_contributors() -> None:
    crowd, messi, _ = collected()
    assert rows_from_table(crowd.table, FIELDS, "final", crowd.log) == [
        {
            "row_id": messi,
            **MESSI,
            "up": 2,
            "down": 0,
            "score": 2.0,
            "status": "green",
            "contributors": ["w1", "w2"],
        }
    ]


def test_the_candidate_table_exports_every_current_row_missing_cells_absent() -> None:
    crowd, messi, partial = collected()
    rows = {row["row_id"]: row for row in rows_from_table(crowd.table, FIELDS, "candidates", crowd.log)}
    assert set(rows) == {messi, partial}
    assert rows[partial] == {
        "row_id": partial,
        "name": "Neymar",
        "born": None,
        "caps": None,
        "height": None,
        "active": None,
        "up": 0,
        "down": 1,
        "score": 0.0,
        "status": "blue",
        "contributors": ["w3", "w4"],
    }


def test_without_the_log_only_voters_are_known_as_contributors() -> None:
    crowd, _, partial = collected()
    rows = {row["row_id"]: row for row in rows_from_table(crowd.table, FIELDS, "candidates")}
    assert rows[partial]["contributors"] == ["w4"]


def test_a_worker_who_took_back_their_vote_is_no_contributor() -> None:
    crowd, messi, partial = collected()
    crowd.apply(Retract("w2", messi))
    crowd.apply(Retract("w4", partial))
    rows = {row["row_id"]: row for row in rows_from_table(crowd.table, FIELDS, "candidates", crowd.log)}
    assert (rows[messi]["up"], rows[messi]["contributors"]) == (1, ["w1"])
    assert (rows[partial]["down"], rows[partial]["contributors"]) == (0, ["w3"])


def test_fillers_follow_the_chain_of_replaced_rows() -> None:
    crowd = Crowd()
    first = crowd.row("w1", {"name": "Xavi"})
    crowd.apply(Fill("w2", first, "x2", "caps", 133, frozenset()))
    assert contributions(crowd.log).fillers("x2") == frozenset({"w1", "w2"})


def test_rows_read_over_rest_equal_the_rows_of_the_table_itself() -> None:
    crowd, _, _ = collected()
    crowd.row("w5", {"name": "Xavi", "caps": 133})
    api = FakeServer(crowd).api()
    fields = api.fields(TABLE)
    whats: tuple[What, ...] = ("final", "candidates")
    for what in whats:
        assert api.snapshot(TABLE, what, fields).records == rows_from_table(
            crowd.table, fields, what, crowd.log
        )


def test_the_log_is_read_in_pages_and_only_once() -> None:
    crowd, messi, _ = collected()
    server = FakeServer(crowd)
    api = server.api()
    fields = api.fields(TABLE)
    api.snapshot(TABLE, "final", fields)
    crowd.upvote("w9", messi)
    (row,) = api.snapshot(TABLE, "final", fields).records
    assert row["contributors"] == ["w1", "w2", "w9"]
    log_reads = [r for r in server.requests if r.startswith(f"/api/tables/{TABLE}/log")]
    assert log_reads == [
        f"/api/tables/{TABLE}/log?after_seq=0&limit=5000",
        f"/api/tables/{TABLE}/log?after_seq={len(crowd.log) - 1}&limit=5000",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"rows": "nope"},
        {"rows": [1]},
        {"rows": [{"row_id": "r1", "values": {"caps": "many"}, "final": True}]},
        {"rows": [{"row_id": "r1", "values": {"shoe": 44}, "final": True}]},
        {"rows": [{"values": {"name": "x"}, "final": True}]},
        42,
    ],
)
def test_a_malformed_server_answer_is_refused_clearly(payload: Any) -> None:
    with pytest.raises(ExportError):
        rows_from_api(payload, FIELDS, "final")


def test_rows_from_the_server_are_typed_by_the_schema() -> None:
    payload = {
        "rows": [
            {
                "row_id": "r1",
                "values": {"name": "Messi", "height": 2},
                "up": 2,
                "down": 0,
                "score": 2,
                "status": "green",
                "final": True,
            },
            {
                "row_id": "r2",
                "values": {"name": "Pele"},
                "up": 0,
                "down": 0,
                "score": 0,
                "status": "blue",
                "final": False,
            },
        ]
    }
    (row,) = rows_from_api(payload, FIELDS, "final")
    assert (row["height"], row["score"], row["caps"], row["contributors"]) == (2.0, 2.0, None, None)
