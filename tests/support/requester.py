"""Requester-side helpers over the REST API (httpx), shared by server, web and simulation tests."""

from __future__ import annotations

from typing import Any

import httpx

CAPITALS: dict[str, Any] = {
    "name": "Capitals",
    "instructions": "Name the capital of each country.",
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
    "scoring": {"family": "threshold", "min_votes": 2},
    "template": [{"country": "France"}, {"country": "Spain"}],
    "budget_cents": 500,
}

SOCCER: dict[str, Any] = {
    "name": "SoccerPlayer",
    "instructions": "Soccer players you know.",
    "schema": {
        "columns": [
            {"name": "name"},
            {"name": "nationality"},
            {"name": "position", "domain": ["GK", "DF", "MF", "FW"]},
            {"name": "caps", "type": "integer"},
            {"name": "goals", "type": "integer"},
        ],
        "key": ["name", "nationality"],
    },
    "scoring": {"family": "threshold", "min_votes": 2},
    "template": [{"position": "FW"}, {"nationality": "Brazil"}, {"nationality": "Spain"}],
    "budget_cents": 1000,
}


async def create_table(
    client: httpx.AsyncClient, definition: dict[str, Any], launch: bool = True
) -> dict[str, Any]:
    response = await client.post("/api/tables", json=definition)
    assert response.status_code == 201, response.text
    table: dict[str, Any] = response.json()
    if launch:
        response = await client.post(f"/api/tables/{table['id']}/launch")
        assert response.status_code == 200, response.text
        table = response.json()
    return table


async def worker_token(
    client: httpx.AsyncClient, table_id: str, worker_id: str | None = None, **extra: Any
) -> str:
    body: dict[str, Any] = {**extra}
    if worker_id is not None:
        body["worker_id"] = worker_id
    response = await client.post(f"/api/tables/{table_id}/links", json=body)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def candidates(client: httpx.AsyncClient, table_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/tables/{table_id}/candidates")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def error_code(response: httpx.Response) -> str:
    """The code of an error response, after checking the body has the documented error shape."""
    body: dict[str, Any] = response.json()
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    code: str = body["error"]["code"]
    return code


async def recruit_query(
    client: httpx.AsyncClient, table_id: str, platform: str = "mturk", study_id: str = "st1"
) -> dict[str, str]:
    """The signed query parameters (``cf_batch``, ``cf_sig``) of a published MTurk or Prolific URL."""
    body: dict[str, Any] = {"platform": platform}
    if platform == "prolific":
        body["study_id"] = study_id
    response = await client.post(f"/api/tables/{table_id}/recruit-urls", json=body)
    assert response.status_code == 201, response.text
    query: dict[str, str] = response.json()["query"]
    return query


async def signed_session_body(
    client: httpx.AsyncClient, table_id: str, session: dict[str, Any]
) -> dict[str, Any]:
    """``session`` (a sessions endpoint body) with the signature a published URL would give it."""
    study = session.get("study_id", "st1")
    query = await recruit_query(client, table_id, session["platform"], study)
    signed = {**session, "signature": query["cf_sig"]}
    if "cf_batch" in query:
        signed["batch"] = query["cf_batch"]
    return signed
