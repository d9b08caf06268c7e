"""/openapi.json documents the error answers each operation really gives, with the real error body."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/")
    ]


def concrete(path: str, table_id: str) -> str:
    names = {
        "worker_id": "ann",
        "name": "final.csv",
        "what": "final",
        "batch": "b1",
        "hook_id": "h1",
        "row_id": "r-missing",
    }
    names["gold_id"] = "w-000000000000000000000000"
    return path.format(table_id=table_id, **names)


async def test_every_error_an_operation_answers_is_documented_with_the_error_body(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    document = (await http.get("/openapi.json")).json()
    assert document["components"]["schemas"]["ErrorBody"]["properties"]["error"]
    live = await create_table(http, CAPITALS)
    draft = await create_table(http, CAPITALS, launch=False)
    anonymous = httpx.AsyncClient(base_url=server.base_url, timeout=10)
    checked: dict[tuple[str, str], set[int]] = {}
    limit = server.settings.max_payload_bytes
    for method, path, operation in operations(document):
        seen: set[int] = set()
        if "requester" in operation["tags"]:
            seen.add((await anonymous.request(method, concrete(path, live["id"]))).status_code)
        if "{table_id}" in path:
            seen.add((await http.request(method, concrete(path, "t-missing"), json={})).status_code)
        if "requestBody" in operation:
            url = concrete(path, draft["id"])
            headers = {"content-type": "application/json"}
            seen.add((await http.request(method, url, content=b"{", headers=headers)).status_code)
            seen.add(
                (await http.request(method, url, content=b" " * (limit + 1), headers=headers)).status_code
            )
            seen.add((await http.request(method, url, content=b"[]", headers=headers)).status_code)
        documented = {int(status) for status in operation["responses"] if status.startswith("4")}
        assert {s for s in seen if s >= 400} <= documented, (method, path, seen, documented)
        for status in documented:
            schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema == ERROR_BODY, (method, path, status)
        checked[(method, path)] = seen
    await anonymous.aclose()
    assert all(401 in checked[(m, p)] for m, p, op in operations(document) if "requester" in op["tags"])
    assert {400, 413, 422} <= checked[("POST", "/api/tables")]
    # The state conflicts: each is a documented 409.
    conflicts = [
        ("POST", f"/api/tables/{live['id']}/launch", "/api/tables/{table_id}/launch"),
        ("PATCH", f"/api/tables/{live['id']}", "/api/tables/{table_id}"),
        ("POST", f"/api/tables/{draft['id']}/close", "/api/tables/{table_id}/close"),
    ]
    for method, url, path in conflicts:
        response = await http.request(method, url, json={"name": "x"} if method == "PATCH" else None)
        assert response.status_code == 409, (url, response.text)
        assert "409" in document["paths"][path][method.lower()]["responses"]


async def test_a_405_names_every_method_the_path_allows(http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS, launch=False)
    for method, url in [("PUT", f"/api/tables/{table['id']}"), ("DELETE", "/api/tables")]:
        response = await http.request(method, url)
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"
        allowed = set(response.headers["allow"].split(", "))
        assert len(allowed) >= 2, allowed
        for other in allowed:
            body = {"name": "renamed"} if other == "PATCH" else dict(CAPITALS) if other == "POST" else None
            answer = await http.request(other, url, json=body)
            assert answer.status_code != 405, (other, url)
