"""Finished tables after a restart: listed and exported without being loaded, the same as before."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx

from crowdfill.server.finished import SUMMARY_KIND
from crowdfill.store import open_store
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

# A row the crowd never completes keeps the table live until the requester closes it.
OPEN_ENDED: dict[str, Any] = {
    "name": "Capitals",
    "instructions": "Countries and their capitals.",
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
    "scoring": {"family": "difference", "min_votes": 0},
    "template": [{"country": "never"}, *({} for _ in range(6))],
    "budget_cents": 900,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}
EXPORTS = ("final.csv", "final.jsonl", "candidates.csv", "candidates.jsonl")


async def collect(server: LiveServer, http: httpx.AsyncClient, table_id: str, rows: int) -> None:
    """``rows`` complete rows by ann, each upvoted by bob, and one rival row bob downvotes."""
    ann = WorkerClient(server.base_url, await worker_token(http, table_id, "ann"))
    bob = WorkerClient(server.base_url, await worker_token(http, table_id, "bob"))
    await ann.connect()
    await bob.connect()
    empty = [row_id for row_id, values in ann.rows().items() if not values]
    made: list[str] = []
    for index, row_id in enumerate(empty[:rows]):
        ack = await ann.fill(row_id, "country", f"country {index}")
        assert ack["ok"], ack
        ack = await ann.fill(ack["op"]["new_row_id"], "capital", f"capital {index}")
        assert ack["ok"], ack
        made.append(ack["op"]["new_row_id"])
    await bob.wait_for_seq(ann.last_seq)
    for row_id in made:
        assert (await bob.upvote(row_id))["ok"]
    rival = empty[rows]
    ack = await bob.fill(rival, "country", "country 0")
    ack = await bob.fill(ack["op"]["new_row_id"], "capital", "somewhere else")
    assert ack["ok"], ack
    assert (await ann.downvote(ack["op"]["new_row_id"]))["ok"]
    await ann.disconnect()
    await bob.disconnect()


async def reads(http: httpx.AsyncClient, table_id: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for name in EXPORTS:
        response = await http.get(f"/api/tables/{table_id}/export/{name}")
        assert response.status_code == 200, response.text
        answers[name] = response.text
    return answers


def listed(answer: dict[str, Any], table_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(t for t in answer["tables"] if t["id"] == table_id)
    return without_urls(entry)


def without_urls(entry: dict[str, Any]) -> dict[str, Any]:
    # The links name the server's port, which a restart changes.
    return {k: v for k, v in entry.items() if k not in ("worker_url", "monitor_url")}


async def test_a_finished_table_is_not_loaded_at_startup_but_is_listed_and_exported_as_before(
    tmp_path: Path,
) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, OPEN_ENDED)
            table_id = table["id"]
            await collect(server, http, table_id, rows=4)
            closed = await http.post(f"/api/tables/{table_id}/close")
            assert closed.status_code == 200, closed.text
            before_list = listed((await http.get("/api/tables")).json(), table_id)
            before = await reads(http, table_id)
            before_pay = (await http.get(f"/api/tables/{table_id}/compensation")).json()
    assert before_list["final_rows"] == 4
    assert before_list["status"] == "closed"
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            assert server.app.tables.loaded(table_id) is None
            assert listed((await http.get("/api/tables")).json(), table_id) == before_list
            assert without_urls((await http.get(f"/api/tables/{table_id}")).json()) == before_list
            final_csv = await http.get(f"/api/tables/{table_id}/export/final.csv")
            final_jsonl = await http.get(f"/api/tables/{table_id}/export/final.jsonl")
            assert final_csv.text == before["final.csv"]
            assert final_jsonl.text == before["final.jsonl"]
            assert server.app.tables.loaded(table_id) is None  # the final rows came from the store
            assert await reads(http, table_id) == before
            assert (await http.get(f"/api/tables/{table_id}/compensation")).json() == before_pay


async def test_a_streamed_export_holds_the_rows_the_json_reads_give(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, OPEN_ENDED)
            table_id = table["id"]
            await collect(server, http, table_id, rows=3)
            for finished in (False, True):
                exported = await reads(http, table_id)
                final = (await http.get(f"/api/tables/{table_id}/final")).json()["rows"]
                candidates = (await http.get(f"/api/tables/{table_id}/candidates")).json()["rows"]
                assert final
                assert len(candidates) > len(final)
                assert _csv(exported["final.csv"]) == [_flat(row, ()) for row in final]
                assert _jsonl(exported["final.jsonl"]) == final
                extra = ("up", "down", "score", "status")
                assert _csv(exported["candidates.csv"]) == [_flat(row, extra) for row in candidates]
                assert _jsonl(exported["candidates.jsonl"]) == candidates
                if not finished:
                    assert (await http.post(f"/api/tables/{table_id}/close")).status_code == 200


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _jsonl(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


def _flat(row: dict[str, Any], extra: tuple[str, ...]) -> dict[str, str]:
    flat = {"row_id": row["row_id"]}
    flat.update({column: str(row["values"].get(column, "")) for column in ("country", "capital")})
    flat.update({name: str(row[name]) for name in extra})
    return flat


async def test_a_finished_table_whose_summary_is_missing_is_loaded_to_be_read(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=2)
            assert (await http.post(f"/api/tables/{table_id}/close")).status_code == 200
            before = await reads(http, table_id)
    # As if the server had stopped between writing the final rows and the summary.
    store = open_store(None, tmp_path)
    await store.open()
    assert await store.delete_item(table_id, SUMMARY_KIND, "table")
    await store.close()
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            assert (await http.get(f"/api/tables/{table_id}")).json()["final_rows"] == 2
            assert await reads(http, table_id) == before
            assert server.app.tables.loaded(table_id) is not None
