"""Column rules over the wire: defined over REST, shown to workers, enforced on the socket."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import candidates, create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient

RULED: dict[str, Any] = {
    "name": "Airports",
    "schema": {
        "columns": [
            {"name": "code", "type": "text", "pattern": "[A-Z]{3}", "max_length": 3},
            {"name": "city", "type": "text", "max_length": 20},
            {"name": "elevation", "type": "integer", "min": -500, "max": 9000},
            {"name": "opened", "type": "date", "min": "1900-01-01"},
        ],
        "key": ["code"],
    },
    "template": [{"code": "CDG"}, {}],
    "budget_cents": 100,
}


async def test_a_fill_breaking_a_rule_is_refused_on_the_socket_with_the_rules_code(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, RULED)
    columns = {c["name"]: c for c in table["definition"]["schema"]["columns"]}
    assert columns["code"]["pattern"] == "[A-Z]{3}"
    assert columns["elevation"]["min"] == -500
    assert "pattern" not in columns["city"]
    ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
    await ann.connect()
    try:
        cdg = next(rid for rid, values in ann.rows().items() if dict(values) == {"code": "CDG"})
        before = await candidates(http, table["id"])
        cases: list[tuple[str, object, str]] = [
            ("elevation", -501, "value_below_min"),
            ("elevation", "9001", "value_above_max"),
            ("elevation", 123456789012345678, "integer_out_of_range"),
            ("city", "x" * 21, "value_too_long"),
            ("opened", "1899-12-31", "value_below_min"),
        ]
        for column, value, code in cases:
            ack = await ann.fill(cdg, column, value)
            assert ack["ok"] is False, (column, value, ack)
            assert ack["error"]["code"] == code, (column, value, ack)
            assert column in ack["error"]["message"]
        assert (await candidates(http, table["id"]))["rows"] == before["rows"]
        accepted = await ann.fill(cdg, "elevation", 392.0)
        assert accepted["ok"], accepted
        assert accepted["op"]["value"] == 392
        free = next(rid for rid, values in ann.rows().items() if not values)
        refused = await ann.fill(free, "code", "cd1")
        assert refused["error"]["code"] == "pattern_mismatch"
    finally:
        await ann.disconnect()


async def test_a_definition_with_an_unusable_rule_is_refused_with_a_reason(http: httpx.AsyncClient) -> None:
    def with_column(column: dict[str, Any]) -> dict[str, Any]:
        return {**RULED, "schema": {"columns": [column]}, "template": []}

    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "c", "pattern": "(?=x)"}, "invalid_pattern", "lookaround"),
        ({"name": "c", "pattern": "(a)\\1"}, "invalid_pattern", "\\1"),
        ({"name": "c", "pattern": "x" * 201}, "malformed", "pattern"),
        ({"name": "n", "type": "integer", "min": 3, "max": 2}, "invalid_schema", "above max"),
        ({"name": "n", "type": "integer", "pattern": "1"}, "invalid_schema", "apply to text"),
        ({"name": "d", "type": "date", "max": "soon"}, "invalid_schema", "max of column 'd'"),
        ({"name": "c", "max_length": 0}, "invalid_schema", "max_length"),
    ]
    for column, code, reason in cases:
        response = await http.post("/api/tables", json=with_column(column))
        assert response.status_code == 422, (column, response.text)
        assert error_code(response) == code, (column, response.text)
        assert reason in response.json()["error"]["message"], (column, response.text)
    template = {**RULED, "template": [{"code": "par"}]}
    response = await http.post("/api/tables", json=template)
    assert response.status_code == 422
    assert error_code(response) == "unsatisfiable_template"
    assert "does not match the pattern" in response.json()["error"]["message"]
