"""Deleting a draft over REST: gone from the list and every read; refused once launched."""

from __future__ import annotations

import httpx

from tests.support.requester import CAPITALS, create_table, error_code


async def test_a_deleted_draft_is_gone_from_the_list_and_every_read(http: httpx.AsyncClient) -> None:
    draft = await create_table(http, CAPITALS, launch=False)
    kept = await create_table(http, {**CAPITALS, "name": "Kept"}, launch=False)

    deleted = await http.delete(f"/api/tables/{draft['id']}")

    assert deleted.status_code == 204
    listed = [t["id"] for t in (await http.get("/api/tables")).json()["tables"]]
    assert listed == [kept["id"]]
    for path in ("", "/candidates", "/launch"):
        method = "POST" if path == "/launch" else "GET"
        answer = await http.request(method, f"/api/tables/{draft['id']}{path}")
        assert (answer.status_code, error_code(answer)) == (404, "table_not_found")
    again = await http.delete(f"/api/tables/{draft['id']}")
    assert again.status_code == 404


async def test_a_launched_table_cannot_be_deleted_and_says_to_close_it(http: httpx.AsyncClient) -> None:
    live = await create_table(http, CAPITALS)

    refused = await http.delete(f"/api/tables/{live['id']}")

    assert (refused.status_code, error_code(refused)) == (409, "table_not_draft")
    assert "close a live table" in refused.json()["error"]["message"]
    assert (await http.get(f"/api/tables/{live['id']}")).json()["status"] == "live"


async def test_deleting_needs_the_requester_token(http: httpx.AsyncClient) -> None:
    draft = await create_table(http, CAPITALS, launch=False)
    async with httpx.AsyncClient(base_url=str(http.base_url)) as anonymous:
        refused = await anonymous.delete(f"/api/tables/{draft['id']}")
    assert refused.status_code == 401
    assert (await http.get(f"/api/tables/{draft['id']}")).status_code == 200
