"""Hostile Socket.IO packets: each gets an answer with an error code, one log line, and changes nothing."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from socketio import packet as sio_packet

from tests.support.live_server import LiveServer
from tests.support.raw_socket import RawSocket
from tests.support.requester import CAPITALS, candidates, create_table, worker_token
from tests.support.worker_client import WorkerClient

GUARD_LOGGER = "crowdfill.server.wire_guard"


def fill(row: str, value: str) -> str:
    """The JSON text of a fill payload with ``value`` spliced in raw (it may be no JSON at all)."""
    return '{"row_id":' + json.dumps(row) + ',"column":"capital","value":' + value + "}"


async def test_undecodable_and_unknown_events_are_acked_with_an_error_code_and_logged_in_one_line(
    server: LiveServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    table = await create_table(http, CAPITALS)
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    await ann.connect()
    row = next(iter(ann.rows()))
    raw = await RawSocket.open(server.base_url)
    joined = await raw.join("/worker", {"token": ann.token})
    assert joined.packet_type == sio_packet.CONNECT
    before = await candidates(http, table["id"])
    cases = [
        (f'["fill",{fill(row, "1" * 101)}]', "malformed"),
        (f'["fill",{fill(row, "-" + "9" * 5000)}]', "malformed"),
        (f'["fill",{fill(row, "1e999")}]', "malformed"),
        (f'["fill",{fill(row, "NaN")}]', "malformed"),
        (f'["fill",{fill(row, "Infinity")}]', "malformed"),
        (f'["fill",{fill(row, json.dumps(chr(0xDFFF)))}]', "malformed"),
        (f'["fill",{fill(row, json.dumps("x" + chr(0xD800)))}]', "malformed"),
        ('["fill",' + "[" * 50 + "]" * 50 + "]", "malformed"),
        ('["fill",' + "[" * 100_000 + "]" * 100_000 + "]", "malformed"),
        ('["fill",{"row_id":', "bad_json"),
        ("[\"fill\",{'row_id':'x'}]", "bad_json"),
        ('{"event":"fill"}', "malformed"),
        ("[]", "malformed"),
        ("[5]", "malformed"),
        ('["connect",{"token":"x"}]', "unknown_event"),
        ('["disconnect"]', "unknown_event"),
        ('["connect_error"]', "unknown_event"),
        ('["message","hello"]', "unknown_event"),
        ('["' + "x" * 500 + '"]', "unknown_event"),
    ]
    caplog.set_level(logging.WARNING)
    for ack_id, (body, code) in enumerate(cases, start=1):
        await raw.send(f"2/worker,{ack_id}{body}")
        answer = await raw.ack("/worker", ack_id)
        assert answer["ok"] is False, body[:80]
        assert answer["error"]["code"] == code, (body[:80], answer)
        assert answer["error"]["message"]
    # Messages whose ack id cannot be used, and packets that are not events at all, are answered
    # with an "error" event on the namespace the message named.
    unanswerable = [
        ("2/worker," + "9" * 16 + f'["fill",{fill(row, json.dumps("Paris"))}]', "malformed"),
        ("2/worker," + "9" * 5000 + '["fill",{}]', "malformed"),
        ("2/worker,\u0661\u0662" + '["fill",{}]', "bad_json"),  # Arabic-Indic digits are no ack id
        ("2/worker,", "malformed"),
        ("4/worker,{}", "malformed"),
    ]
    for text, code in unanswerable:
        await raw.send(text)
        error = await raw.event("/worker", "error")
        assert error["code"] == code, (text[:80], error)
        assert error["message"]
    await raw.send('51-/worker,7["fill",{"_placeholder":true,"num":0}]')
    assert (await raw.ack("/worker", 7))["error"]["code"] == "malformed"
    await raw.send("9garbage")
    assert (await raw.event("/", "error"))["code"] == "malformed"
    refused = len(cases) + len(unanswerable) + 2
    lines = [r for r in caplog.records if r.name == GUARD_LOGGER]
    assert len(lines) == refused
    assert all("\n" not in r.getMessage() and r.exc_info is None for r in lines)
    assert not [r for r in caplog.records if r.exc_info is not None]
    # Nothing changed, and the same connection still works.
    assert await candidates(http, table["id"]) == before
    paris = fill(row, json.dumps("Paris"))[:-1] + ',"seen_seq":0}'  # every fill names its seen seq
    await raw.send(f'2/worker,99["fill",{paris}]')
    assert (await raw.ack("/worker", 99))["ok"] is True
    await raw.close()
    await ann.disconnect()


async def test_a_connect_with_undecodable_auth_or_an_event_before_connecting_is_refused_with_a_code(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    await worker_token(http, table["id"], "ann")
    raw = await RawSocket.open(server.base_url)
    await raw.send('2/worker,1["fill",{}]')  # before any connect to /worker
    assert (await raw.ack("/worker", 1))["error"]["code"] == "not_connected"
    for auth, code in [
        ('{"token":' + json.dumps(chr(0xDFFF)) + "}", "malformed"),
        ('{"token":"x",', "bad_json"),
        ('{"last_seq":' + "1" * 200 + "}", "malformed"),
    ]:
        await raw.send(f"0/worker,{auth}")
        reply = await raw.wait_for(lambda p: p.namespace == "/worker")
        assert reply.packet_type == sio_packet.CONNECT_ERROR
        assert reply.data["data"]["code"] == code
        assert reply.data["message"]
    await raw.close()


async def test_events_named_connect_or_disconnect_never_reach_the_connection_handlers(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    token = await worker_token(http, table["id"], "ann")
    raw = await RawSocket.open(server.base_url)
    assert (await raw.join("/worker", {"token": token})).packet_type == sio_packet.CONNECT
    await raw.event("/worker", "snapshot")
    await raw.send('2/worker,1["disconnect","client namespace disconnect"]')
    assert (await raw.ack("/worker", 1))["error"]["code"] == "unknown_event"
    await raw.send('2/worker,2["connect",{},{"token":"forged"}]')
    assert (await raw.ack("/worker", 2))["error"]["code"] == "unknown_event"
    workers = (await http.get(f"/api/tables/{table['id']}/workers")).json()["workers"]
    assert {w["worker_id"]: w["online"] for w in workers}["ann"] is True
    # Still known as ann's session, so revoking her link still ends it.
    await http.delete(f"/api/tables/{table['id']}/links/ann")
    assert (await raw.event("/worker", "kicked"))["code"] == "link_revoked"
    await raw.wait_for(lambda p: p.packet_type == sio_packet.DISCONNECT and p.namespace == "/worker")
    await raw.close()


@pytest.mark.parametrize("action", ["revoke", "block"])
async def test_revoking_or_blocking_ends_every_live_connection_of_the_worker(
    server: LiveServer, http: httpx.AsyncClient, action: str
) -> None:
    table = await create_table(http, CAPITALS)
    token = await worker_token(http, table["id"], "ann")
    first = WorkerClient(server.base_url, token)
    second = WorkerClient(server.base_url, token)
    bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
    for client in (first, second, bob):
        await client.connect()
    # A disconnect event sent by one of ann's connections must not hide it from the kick. The
    # call after it is answered only once the server has dealt with it (one connection's messages
    # are read in order).
    await second.sio.eio.send('2/worker,["disconnect"]')
    answer = await second.sio.call("unknown", {}, namespace="/worker", timeout=5)
    assert answer["error"]["code"] == "unknown_event"
    if action == "revoke":
        await http.delete(f"/api/tables/{table['id']}/links/ann")
    else:
        await http.post(f"/api/tables/{table['id']}/workers/ann/block")
    for client in (first, second):
        await client.wait_for(lambda c=client: c.kicked is not None and not c.sio.connected)
    assert bob.kicked is None
    assert bob.sio.connected
    await bob.disconnect()
