"""A row's history: the fills that made it, back to its template row, and the votes on it."""

from __future__ import annotations

import httpx
import pytest

from crowdfill.client import AsyncClient, NotFound
from crowdfill.model.values import Values
from crowdfill.server.row_history import row_history
from crowdfill.store.port import LogRecord
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient


def row_with(rows: dict[str, Values], **wanted: str) -> str:
    [row_id] = [r for r, values in rows.items() if all((k, v) in values for k, v in wanted.items())]
    return row_id


async def test_the_history_names_who_filled_and_who_voted_in_sequence_order(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
        table = await create_table(http, CAPITALS)
        ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
        bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
        await ann.connect()
        await bob.connect()
        try:
            france = row_with(ann.rows(), country="France")
            filled = await ann.fill(france, "capital", "Paris")
            assert filled["ok"], filled
            paris = filled["op"]["new_row_id"]
            await bob.wait_for_seq(ann.last_seq)
            assert (await bob.downvote(paris))["ok"]
            assert (await bob.retract(paris))["ok"]
            spain = row_with(ann.rows(), country="Spain")
            madrid = await ann.fill(spain, "capital", "Madrid")
            assert madrid["ok"], madrid
            await bob.wait_for_seq(ann.last_seq)
            # A vote on another row is not in Paris's history.
            assert (await bob.downvote(madrid["op"]["new_row_id"]))["ok"]

            answer = await http.get(f"/api/tables/{table['id']}/rows/{paris}/history")
            assert answer.status_code == 200
            body = answer.json()
            assert body["values"] == {"country": "France", "capital": "Paris"}
            steps = [(e["type"], e["worker"], e.get("column"), e.get("on")) for e in body["history"]]
            assert steps == [
                ("insert", "central", None, None),
                ("fill", "ann", "capital", None),
                ("downvote", "bob", None, "this row"),
                ("retract", "bob", None, "this row"),
            ]
            seqs = [e["seq"] for e in body["history"]]
            assert seqs == sorted(seqs)
            assert body["history"][1]["upvote"] is True  # completing the row upvoted it for Ann

            async with AsyncClient(server.base_url, server.settings.requester_token) as sdk:
                typed = await sdk.row_history(table["id"], paris)
                assert [e.worker for e in typed.history] == ["central", "ann", "bob", "bob"]
                with pytest.raises(NotFound):
                    await sdk.row_history(table["id"], "r-missing")
        finally:
            await ann.disconnect()
            await bob.disconnect()
        missing = await http.get(f"/api/tables/{table['id']}/rows/r-missing/history")
        assert missing.status_code == 404
        assert error_code(missing) == "not_found"


def test_a_downvote_on_part_of_the_row_is_in_its_history_and_marked_so() -> None:
    log = [
        LogRecord(1, {"type": "insert", "worker": "central", "row_id": "a", "values": {}}, 1.0),
        LogRecord(
            2,
            {
                "type": "fill",
                "worker": "w",
                "row_id": "a",
                "new_row_id": "b",
                "column": "x",
                "value": 1,
                "values": {"x": 1},
            },
            2.0,
        ),
        LogRecord(3, {"type": "downvote", "worker": "v", "row_id": "b", "values": {"x": 1}}, 3.0),
        LogRecord(
            4,
            {
                "type": "fill",
                "worker": "w",
                "row_id": "b",
                "new_row_id": "c",
                "column": "y",
                "value": 2,
                "values": {"x": 1, "y": 2},
            },
            4.0,
        ),
        LogRecord(5, {"type": "upvote", "worker": "v", "row_id": "c", "values": {"x": 1, "y": 2}}, 5.0),
        LogRecord(6, {"type": "downvote", "worker": "v", "row_id": "z", "values": {"x": 9}}, 6.0),
    ]
    found = row_history(log, "c")
    assert found is not None
    assert [(e["seq"], e.get("on")) for e in found["history"]] == [
        (1, None),
        (2, None),
        (3, "part of this row"),
        (4, None),
        (5, "this row"),
    ]
    assert row_history(log, "nope") is None
