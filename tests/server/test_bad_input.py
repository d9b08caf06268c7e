"""Bad input on the worker socket: each case gets a clear error, the server stays up, nothing changes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import socketio

from crowdfill.server.tokens import TokenSigner, WorkerClaims
from tests.support.live_server import SECRET, LiveServer
from tests.support.requester import CAPITALS, SOCCER, candidates, create_table, worker_token
from tests.support.worker_client import WorkerClient, refusal


async def test_malformed_wrong_and_invalid_operations_get_error_acks_and_change_nothing(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    # More messages than the default burst: the rate limit is tested in test_ratelimit.py.
    table = await create_table(http, {**SOCCER, "rate_limit": {"ops_per_second": 5, "burst": 100}})
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    await ann.connect()
    brazil = next(rid for rid, values in ann.rows().items() if dict(values) == {"nationality": "Brazil"})
    before = await candidates(http, table["id"])
    cases: list[tuple[str, Any, str]] = [
        ("fill", "not an object", "malformed"),
        ("fill", [1, 2], "malformed"),
        ("fill", None, "malformed"),
        ("fill", {}, "malformed"),
        ("fill", {"row_id": 5, "column": "name", "value": "x"}, "malformed"),
        ("fill", {"row_id": brazil, "column": "name", "value": None}, "malformed"),
        ("fill", {"row_id": brazil, "column": "name", "value": {"nested": 1}}, "malformed"),
        ("fill", {"row_id": brazil, "column": "name", "value": "x" * 20_000}, "payload_too_large"),
        ("fill", {"row_id": brazil, "column": "name", "value": "x", "new_row_id": "<script>"}, "malformed"),
        ("fill", {"row_id": brazil, "column": "name", "value": "Neymar"}, "malformed"),  # no seen_seq
        ("fill", {"row_id": brazil, "column": "name", "value": "x", "seen_seq": -1}, "malformed"),
        (
            "fill",
            {"seen_seq": 0, "row_id": "no-such-row", "column": "name", "value": "Neymar"},
            "unknown_row",
        ),
        ("fill", {"seen_seq": 0, "row_id": brazil, "column": "shoe_size", "value": 44}, "unknown_column"),
        (
            "fill",
            {"seen_seq": 0, "row_id": brazil, "column": "position", "value": "Striker"},
            "outside_domain",
        ),
        ("fill", {"seen_seq": 0, "row_id": brazil, "column": "caps", "value": "many"}, "wrong_type"),
        ("fill", {"seen_seq": 0, "row_id": brazil, "column": "caps", "value": True}, "wrong_type"),
        (
            "fill",
            {"seen_seq": 0, "row_id": brazil, "column": "nationality", "value": "Chile"},
            "cell_already_filled",
        ),
        ("fill", {"seen_seq": 0, "row_id": brazil, "column": "name", "value": "   "}, "wrong_type"),
        ("upvote", {"row_id": brazil}, "incomplete_row_upvoted"),
        ("downvote", {"row_id": brazil}, "template_protected"),
        ("upvote", {"row_id": "ghost"}, "unknown_row"),
        ("upvote", {}, "malformed"),
        ("delete_everything", {"row_id": brazil}, "unknown_event"),
    ]
    for event, payload, code in cases:
        ack = await ann.sio.call(event, payload, namespace="/worker", timeout=5)
        assert ack["ok"] is False, (event, payload, ack)
        assert ack["error"]["code"] == code, (event, payload, ack)
        assert ack["error"]["message"]
    taken = await ann.fill(brazil, "name", "Neymar", new_row_id="r-1")
    assert taken["ok"]
    duplicate = await ann.fill("r-1", "position", "FW", new_row_id="r-1")
    assert duplicate["error"]["code"] == "duplicate_row_id"
    two_arguments = await ann.sio.call("upvote", ("a", "b"), namespace="/worker", timeout=5)
    assert two_arguments["error"]["code"] == "malformed"
    after = await candidates(http, table["id"])
    assert after["seq"] == before["seq"] + 1  # only the one valid fill
    assert (await http.get("/api/tables")).status_code == 200
    await ann.disconnect()


async def test_a_worker_field_in_the_payload_is_ignored(server: LiveServer, http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS)
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    await ann.connect()
    france = next(rid for rid, values in ann.rows().items() if dict(values) == {"country": "France"})
    ack = await ann.emit("fill", {"row_id": france, "column": "capital", "value": "Paris", "worker": "bob"})
    assert ack["ok"]
    assert ack["op"]["worker"] == "ann"
    assert ack["op"]["new_row_id"]  # picked by the server when the client does not choose one
    await ann.disconnect()


async def test_forged_foreign_expired_and_revoked_tokens_are_refused_at_connect(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    other = await create_table(http, CAPITALS)
    draft = await create_table(http, CAPITALS, launch=False)
    good = await worker_token(http, table["id"], "ann")
    assert (await refusal(server.base_url, None))["code"] == "token_invalid"
    assert (await refusal(server.base_url, {"token": "garbage"}))["code"] == "token_invalid"
    assert (await refusal(server.base_url, {"token": good[:-3] + "AAA"}))["code"] == "token_invalid"
    forged = TokenSigner("another-secret-0123456789").sign(WorkerClaims(table["id"], "ann", "x"))
    assert (await refusal(server.base_url, {"token": forged}))["code"] == "token_invalid"
    made_up = TokenSigner(SECRET).sign(WorkerClaims(table["id"], "mallory", "made-up-link"))
    assert (await refusal(server.base_url, {"token": made_up}))["code"] == "link_revoked"
    assert (await refusal(server.base_url, {"token": good, "table_id": other["id"]}))[
        "code"
    ] == "token_foreign"
    assert (await refusal(server.base_url, {"token": good, "last_seq": "ten"}))["code"] == "malformed"
    expired = TokenSigner(SECRET).sign(WorkerClaims(table["id"], "ann", "x", time.time() - 1))
    assert (await refusal(server.base_url, {"token": expired}))["code"] == "token_expired"
    early = await worker_token(http, draft["id"], "ann")
    assert (await refusal(server.base_url, {"token": early}))["code"] == "table_not_live"
    await http.delete(f"/api/tables/{table['id']}/links/ann")
    assert (await refusal(server.base_url, {"token": good}))["code"] == "link_revoked"
    assert (await refusal(server.base_url, {"token": "wrong", "table_id": table["id"]}, "/monitor"))[
        "code"
    ] == "unauthorized"
    missing = await refusal(
        server.base_url, {"token": server.settings.requester_token, "table_id": "t-none"}, "/monitor"
    )
    assert missing["code"] == "table_not_found"


async def test_revoking_a_link_or_blocking_a_worker_disconnects_their_live_sessions(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
    await ann.connect()
    await bob.connect()
    await http.delete(f"/api/tables/{table['id']}/links/ann")
    await ann.wait_for(lambda: ann.kicked is not None and not ann.sio.connected)
    kicked = ann.kicked
    assert kicked is not None
    assert kicked["code"] == "link_revoked"
    assert kicked["message"]
    await http.post(f"/api/tables/{table['id']}/workers/bob/block")
    await bob.wait_for(lambda: bob.kicked is not None and not bob.sio.connected)
    assert bob.kicked is not None
    assert bob.kicked["code"] == "worker_blocked"
    fresh = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
    assert (await refusal(server.base_url, {"token": fresh.token}))["code"] == "worker_blocked"
    workers = (await http.get(f"/api/tables/{table['id']}/workers")).json()["workers"]
    assert {w["worker_id"]: w["blocked"] for w in workers}["bob"] is True


async def test_a_completed_table_refuses_operations_but_still_shows_its_state(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    await http.post(f"/api/tables/{table['id']}/close")
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    await ann.connect()
    assert ann.status == "closed"
    row = next(iter(ann.rows()))
    ack = await ann.fill(row, "capital", "Paris")
    assert ack["error"]["code"] == "table_closed"
    await ann.wait_for(lambda: ann.complete is not None)
    assert ann.complete is not None
    assert ann.complete["pay_cents"] == 0
    await ann.disconnect()


async def test_a_message_over_the_transport_limit_drops_only_that_connection(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    token = await worker_token(http, table["id"], "ann")
    ann = WorkerClient(server.base_url, token)
    await ann.connect()
    row = next(iter(ann.rows()))
    with pytest.raises(socketio.exceptions.SocketIOError):
        await ann.sio.call(
            "fill",
            {"row_id": row, "column": "capital", "value": "x" * (2 << 20)},
            namespace="/worker",
            timeout=1,
        )
    await ann.abandon()
    again = WorkerClient(server.base_url, token)
    await again.connect()
    assert (await again.fill(row, "capital", "Paris"))["ok"]
    await again.disconnect()
