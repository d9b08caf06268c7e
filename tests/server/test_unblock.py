"""Lifting a block: DELETE /api/tables/{id}/workers/{worker_id}/block lets the worker back in."""

from __future__ import annotations

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, error_code, signed_session_body, worker_token
from tests.support.worker_client import WorkerClient, refusal


async def blocked_workers(http: httpx.AsyncClient, table_id: str) -> dict[str, bool]:
    listed = (await http.get(f"/api/tables/{table_id}/workers")).json()["workers"]
    return {worker["worker_id"]: worker["blocked"] for worker in listed}


async def test_an_unblocked_worker_rejoins_with_the_same_link_and_their_operations_are_accepted(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    token = await worker_token(http, table["id"], "ann")
    ann = WorkerClient(server.base_url, token)
    await ann.connect()
    await http.post(f"/api/tables/{table['id']}/workers/ann/block")
    await ann.wait_for(lambda: ann.kicked is not None and not ann.sio.connected)
    assert (await refusal(server.base_url, {"token": token}))["code"] == "worker_blocked"

    lifted = await http.delete(f"/api/tables/{table['id']}/workers/ann/block")

    assert lifted.status_code == 200
    assert lifted.json() == {"worker_id": "ann", "blocked": False}
    back = WorkerClient(server.base_url, token)
    await back.connect()
    assert (await blocked_workers(http, table["id"]))["ann"] is False
    france = next(rid for rid, values in back.rows().items() if dict(values) == {"country": "France"})
    ack = await back.fill(france, "capital", "Paris")
    assert ack["ok"], ack
    assert ack["op"]["worker"] == "ann"
    await back.disconnect()


async def test_an_unblocked_marketplace_worker_may_start_a_session_again(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    session = await signed_session_body(
        http, table["id"], {"platform": "prolific", "worker_id": "p9", "study_id": "s1", "session_id": "x1"}
    )
    await http.post(f"/api/tables/{table['id']}/workers/prolific:p9/block")
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        refused = await public.post(f"/api/tables/{table['id']}/sessions", json=session)
        assert error_code(refused) == "worker_blocked"

        lifted = await http.delete(f"/api/tables/{table['id']}/workers/prolific:p9/block")
        assert lifted.json() == {"worker_id": "prolific:p9", "blocked": False}
        admitted = await public.post(f"/api/tables/{table['id']}/sessions", json=session)
        assert admitted.status_code == 201
        assert admitted.json()["worker_id"] == "prolific:p9"


async def test_unblocking_a_worker_who_is_not_blocked_an_unknown_table_or_a_malformed_id_is_refused(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    never = await http.delete(f"/api/tables/{table['id']}/workers/bob/block")
    assert never.status_code == 404
    assert error_code(never) == "not_found"
    await http.post(f"/api/tables/{table['id']}/workers/bob/block")
    assert (await http.delete(f"/api/tables/{table['id']}/workers/bob/block")).status_code == 200
    again = await http.delete(f"/api/tables/{table['id']}/workers/bob/block")
    assert error_code(again) == "not_found"
    missing = await http.delete("/api/tables/t-none/workers/bob/block")
    assert missing.status_code == 404
    assert error_code(missing) == "table_not_found"
    for malformed in ("bad%20id", "central"):
        refused = await http.delete(f"/api/tables/{table['id']}/workers/{malformed}/block")
        assert refused.status_code == 422
        assert error_code(refused) == "malformed"
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        unauthorised = await anonymous.delete(f"/api/tables/{table['id']}/workers/bob/block")
        assert error_code(unauthorised) == "unauthorized"
    assert (await blocked_workers(http, table["id"])).get("bob", False) is False
