"""Stale fills (docs/protocol.md, ``seen_seq``): a fill of a row its sender saw replaced is refused.

Only a fill whose sender had not yet seen the replacement is concurrent, and that one still
duplicates the row (DESIGN §2).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.crowd import crowd
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import SOCCER, candidates, create_table, worker_token
from tests.support.worker_client import WorkerClient


async def test_a_fill_of_a_row_the_sender_had_seen_replaced_is_refused_naming_the_replacement(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann", "bob")
    table, (ann, bob) = players.table, players.workers
    brazil = players.row_id(nationality="Brazil")
    filled = await ann.fill(brazil, "name", "Neymar", new_row_id="ney")
    assert filled["ok"]
    await bob.wait_for_seq(filled["seq"])
    before = await candidates(http, table["id"])
    stale = await bob.fill(brazil, "position", "FW")
    assert stale["ok"] is False
    error = stale["error"]
    assert error["code"] == "row_replaced"
    assert error["replaced_by"] == "ney"
    assert error["row_id"] == brazil
    assert error["replaced_at_seq"] == filled["seq"]
    assert "ney" in error["message"]
    assert await candidates(http, table["id"]) == before  # nothing added
    assert (await bob.fill("ney", "position", "FW"))["ok"]
    await players.disconnect()


async def test_a_fill_that_raced_the_replacement_still_duplicates_the_row(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann", "bob")
    table, (ann, bob) = players.table, players.workers
    brazil = players.row_id(nationality="Brazil")
    seen_before = bob.last_seq
    filled = await ann.fill(brazil, "name", "Neymar")
    assert filled["ok"]
    # Bob filled before he had seen Ann's fill: a real concurrent fill.
    raced = await bob.fill(brazil, "name", "Pelé", seen_seq=seen_before)
    assert raced["ok"], raced
    rows = [row["values"] for row in (await candidates(http, table["id"]))["rows"]]
    assert {"nationality": "Brazil", "name": "Neymar"} in rows
    assert {"nationality": "Brazil", "name": "Pelé"} in rows
    await players.disconnect()


async def test_a_connection_cannot_claim_to_have_seen_less_than_its_join_brought_it(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann")
    (ann,) = players.workers
    brazil = players.row_id(nationality="Brazil")
    assert (await ann.fill(brazil, "name", "Neymar", new_row_id="ney"))["ok"]
    # Joining after the fill, a client's snapshot already holds the replacement: re-filling the
    # old id with seen_seq 0 is the stale-row flood, not a concurrent fill.
    late = WorkerClient(server.base_url, await worker_token(http, players.table["id"], "flood"))
    await late.connect()
    refused = await late.fill(brazil, "name", "Pelé", seen_seq=0)
    assert refused["error"]["code"] == "row_replaced"
    assert refused["error"]["replaced_by"] == "ney"
    await late.disconnect()
    await players.disconnect()


async def test_re_filling_a_row_the_worker_replaced_itself_is_refused_whatever_seen_seq_it_claims(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann")
    (ann,) = players.workers
    brazil = players.row_id(nationality="Brazil")
    seen_before = ann.last_seq
    assert (await ann.fill(brazil, "name", "Neymar", new_row_id="ney"))["ok"]
    again = await ann.fill(brazil, "position", "FW", seen_seq=seen_before)
    assert again["error"]["code"] == "row_replaced"
    assert again["error"]["replaced_by"] == "ney"
    assert "your own fill" in again["error"]["message"]
    await players.disconnect()


async def test_a_fill_without_seen_seq_is_malformed_and_names_the_field(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann")
    (ann,) = players.workers
    brazil = players.row_id(nationality="Brazil")
    ack = await ann.sio.call(
        "fill", {"row_id": brazil, "column": "name", "value": "Neymar"}, namespace="/worker", timeout=5
    )
    assert ack["error"]["code"] == "malformed"
    assert "seen_seq" in ack["error"]["message"]
    await players.disconnect()


async def test_stale_fills_are_still_refused_after_a_restart(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, SOCCER)
            ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
            await ann.connect()
            brazil = next(r for r, v in ann.rows().items() if dict(v) == {"nationality": "Brazil"})
            assert (await ann.fill(brazil, "name", "Neymar", new_row_id="ney"))["ok"]
            await ann.disconnect()
    with live_server(settings) as server:
        ann.base_url = server.base_url
        await ann.reconnect()
        refused = await ann.fill(brazil, "position", "FW")
        assert refused["error"]["code"] == "row_replaced"
        assert refused["error"]["replaced_by"] == "ney"
        await ann.disconnect()
