"""The REST edge: strict JSON bodies and bounded integer query parameters."""

from __future__ import annotations

import json

import httpx

from tests.support.requester import CAPITALS, create_table, error_code


async def test_json_bodies_that_would_break_a_table_are_refused_as_malformed(http: httpx.AsyncClient) -> None:
    bodies = [
        '{"name": "a", "budget_cents": ' + "1" * 101 + "}",
        '{"name": "a", "instructions": "' + "x" * 10 + '", "budget_cents": 1e999}',
        '{"name": "a", "budget_cents": NaN}',
        '{"name": "a", "template": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"name": "a", "scoring": {"\\udfff": 1}}',
    ]
    before = (await http.get("/api/tables")).json()
    for body in bodies:
        response = await http.post("/api/tables", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (body[:60], response.text)
        assert error_code(response) == "malformed"
        assert "\n" not in response.json()["error"]["message"]
    assert (await http.get("/api/tables")).json() == before
    # Ordinary bodies, non-ASCII included, pass as before.
    plain = json.dumps({**CAPITALS, "name": "Hauptstädte 😀"}, ensure_ascii=False).encode()
    named = await http.post("/api/tables", content=plain, headers={"content-type": "application/json"})
    assert named.status_code == 201, named.text
    assert named.json()["definition"]["name"] == "Hauptstädte 😀"


async def test_integer_query_parameters_are_bounded(http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS)
    log = f"/api/tables/{table['id']}/log"
    queries: list[dict[str, int | str]] = [
        {"after_seq": 2**63},
        {"after_seq": "9" * 400},
        {"limit": 2**63},
        {"limit": 0},
    ]
    for params in queries:
        response = await http.get(log, params=params)
        assert response.status_code == 422, (params, response.text)
        assert error_code(response) == "malformed"
    largest = await http.get(log, params={"after_seq": 2**63 - 1})
    assert largest.status_code == 200
    assert largest.json()["ops"] == []
