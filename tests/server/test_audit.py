"""``GET /api/tables/{id}/audit``: a replay of the stored log reproduces the table, or says where not."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdfill.cli import main
from crowdfill.export.audit_cli import FAILED, MISMATCH, OK
from crowdfill.server.audit import canonical_json
from tests.server.owner_support import ONE_ROW
from tests.support.live_server import REQUESTER_TOKEN, LiveServer, live_server, test_settings
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient


async def audit(http: httpx.AsyncClient, table_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/tables/{table_id}/audit")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def verdicts(answer: dict[str, Any]) -> dict[str, bool]:
    return {check["name"]: check["ok"] for check in answer["checks"]}


async def collect(server: LiveServer, http: httpx.AsyncClient, *, complete: bool) -> str:
    """ann fills a country; bob fills its capital (which completes the only template row) if ``complete``."""
    table = await create_table(http, ONE_ROW)
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
    await ann.connect()
    await bob.connect()
    (empty,) = ann.rows()
    assert (await ann.fill(empty, "country", "France", new_row_id="r1"))["ok"]
    await bob.wait_for_seq(ann.last_seq)
    if complete:
        assert (await bob.fill("r1", "capital", "Paris", new_row_id="r2"))["ok"]
    await ann.disconnect()
    await bob.disconnect()
    table_id: str = table["id"]
    return table_id


async def test_a_completed_table_replays_to_its_statuses_final_table_completion_and_payments(
    http: httpx.AsyncClient, server: LiveServer
) -> None:
    table_id = await collect(server, http, complete=True)
    answer = await audit(http, table_id)
    assert answer["ok"], answer
    assert verdicts(answer) == dict.fromkeys(
        ("statuses", "final_table", "completion_seq", "payments", "log"), True
    )
    log = (await http.get(f"/api/tables/{table_id}/log")).json()
    assert answer["completion_seq"] == log["last_seq"]
    # Anyone with the log can recompute its digest.
    expected = hashlib.sha256(canonical_json([entry["op"] for entry in log["ops"]])).hexdigest()
    assert answer["log_digest"] == f"sha256:{expected}"
    assert answer["outcome_digest"].startswith("sha256:")


async def test_live_and_closed_tables_audit_too(http: httpx.AsyncClient, server: LiveServer) -> None:
    table_id = await collect(server, http, complete=False)
    live = await audit(http, table_id)
    assert live["ok"], live
    assert live["completion_seq"] is None
    assert (await http.post(f"/api/tables/{table_id}/close")).status_code == 200
    closed = await audit(http, table_id)
    assert closed["ok"], closed
    assert closed["log_digest"] == live["log_digest"]
    assert closed["outcome_digest"] != live["outcome_digest"]  # now it includes the payments


async def test_a_draft_has_nothing_to_audit(http: httpx.AsyncClient) -> None:
    table = await create_table(http, ONE_ROW, launch=False)
    response = await http.get(f"/api/tables/{table['id']}/audit")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "table_not_live"


def tamper(database: Path, table_id: str, seq: int, change: dict[str, Any]) -> None:
    """Rewrite one stored operation behind the server's back."""
    with sqlite3.connect(database, timeout=10) as connection:
        (text,) = connection.execute(
            "SELECT operation FROM log WHERE table_id = ? AND seq = ?", (table_id, seq)
        ).fetchone()
        operation = {**json.loads(text), **change}
        connection.execute(
            "UPDATE log SET operation = ? WHERE table_id = ? AND seq = ?",
            (json.dumps(operation), table_id, seq),
        )


async def test_the_audit_catches_a_stored_operation_tampered_with(tmp_path: Path) -> None:
    with live_server(test_settings(store_url=None, data_dir=tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = await collect(server, http, complete=True)
            honest = await audit(http, table_id)
            assert honest["ok"], honest
            log = (await http.get(f"/api/tables/{table_id}/log")).json()["ops"]
            (ann_fill,) = [e["seq"] for e in log if e["op"]["worker"] == "ann"]
            # Credit ann's fill to someone else: the rows come out the same, the money does not.
            tamper(tmp_path / "crowdfill.sqlite3", table_id, ann_fill, {"worker": "mallory"})
            tampered = await audit(http, table_id)
    assert not tampered["ok"]
    assert verdicts(tampered)["payments"] is False
    assert "mallory" in next(c["detail"] for c in tampered["checks"] if c["name"] == "payments")
    assert tampered["log_digest"] != honest["log_digest"]
    assert tampered["outcome_digest"] != honest["outcome_digest"]


async def test_the_audit_catches_a_tampered_value(tmp_path: Path) -> None:
    with live_server(test_settings(store_url=None, data_dir=tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = await collect(server, http, complete=True)
            log = (await http.get(f"/api/tables/{table_id}/log")).json()["ops"]
            last = log[-1]
            assert last["op"]["column"] == "capital"
            tamper(
                tmp_path / "crowdfill.sqlite3",
                table_id,
                last["seq"],
                {"value": "Lyon", "values": {**last["op"]["values"], "capital": "Lyon"}},
            )
            tampered = await audit(http, table_id)
    assert verdicts(tampered)["final_table"] is False
    assert verdicts(tampered)["statuses"] is False
    assert "Lyon" in next(c["detail"] for c in tampered["checks"] if c["name"] == "final_table")


async def test_a_table_collected_across_a_restart_audits_clean(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path, snapshot_every=1)
    wide = {**ONE_ROW, "template": [{}, {}]}
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, wide)
            token = await worker_token(http, table["id"], "ann")
            ann = WorkerClient(server.base_url, token)
            await ann.connect()
            first, _ = ann.rows()
            assert (await ann.fill(first, "country", "France", new_row_id="r1"))["ok"]
            await ann.disconnect()
    with live_server(settings) as server:  # recovered from the snapshot and the log
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            ann = WorkerClient(server.base_url, token)
            await ann.connect()
            assert (await ann.fill("r1", "capital", "Paris", new_row_id="r2"))["ok"]
            second = next(row_id for row_id, values in ann.rows().items() if not values)
            assert (await ann.fill(second, "country", "Spain", new_row_id="r3"))["ok"]
            assert (await ann.fill("r3", "capital", "Madrid", new_row_id="r4"))["ok"]
            await ann.disconnect()
            answer = await audit(http, table["id"])
    assert answer["ok"], answer
    assert answer["completion_seq"] == answer["operations"]


# --- crowdfill audit: the command over REST -------------------------------------------------
async def run(*argv: str) -> int:
    # The command is synchronous (httpx.Client); the server runs in its own thread.
    return await asyncio.to_thread(main, ["audit", *argv])


async def test_the_audit_command_prints_every_check_and_fails_on_a_tampered_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with live_server(test_settings(store_url=None, data_dir=tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = await collect(server, http, complete=True)
            options = ("--server", server.base_url, "--token", REQUESTER_TOKEN)
            assert await run(table_id, *options) == OK
            honest = capsys.readouterr().out
            log = (await http.get(f"/api/tables/{table_id}/log")).json()["ops"]
            tamper(tmp_path / "crowdfill.sqlite3", table_id, log[1]["seq"], {"worker": "mallory"})
            assert await run(table_id, *options) == MISMATCH
            tampered = capsys.readouterr().out
    for name in ("statuses", "final_table", "completion_seq", "payments", "log digest", "outcome digest"):
        assert name in honest
    assert honest.rstrip().endswith("audit: ok")
    assert "payments        MISMATCH" in tampered
    assert tampered.rstrip().endswith("audit: MISMATCH")


async def test_the_audit_command_says_when_it_cannot_reach_the_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with live_server() as server:
        assert await run("t-missing", "--server", server.base_url, "--token", "wrong") == FAILED
    assert "401" in capsys.readouterr().err
