"""The requester REST API: lifecycle, reads, exports, links, and clear 4xx errors for bad input."""

from __future__ import annotations

import json
from typing import Any

import httpx

from crowdfill.markets import identity
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, SOCCER, create_table, error_code, signed_session_body


async def test_a_table_goes_from_draft_to_live_and_the_central_client_inserts_template_rows(
    http: httpx.AsyncClient,
) -> None:
    draft = await create_table(http, CAPITALS, launch=False)
    assert draft["status"] == "draft"
    assert draft["definition"]["schema"]["key"] == ["country"]
    assert (await http.get(f"/api/tables/{draft['id']}/candidates")).json()["rows"] == []
    live = (await http.post(f"/api/tables/{draft['id']}/launch")).json()
    assert live["status"] == "live"
    rows = (await http.get(f"/api/tables/{draft['id']}/candidates")).json()["rows"]
    assert sorted(r["values"]["country"] for r in rows) == ["France", "Spain"]
    assert all(r["status"] == "blue" and r["up"] == 0 and r["down"] == 0 for r in rows)
    listed = (await http.get("/api/tables")).json()["tables"]
    assert [t["id"] for t in listed] == [draft["id"]]
    matching = (await http.get(f"/api/tables/{draft['id']}/matching")).json()
    assert [m["row_id"] is not None for m in matching["template"]] == [True, True]
    assert matching["satisfied"] is False


async def test_a_draft_can_be_edited_and_a_launched_table_cannot(http: httpx.AsyncClient) -> None:
    draft = await create_table(http, CAPITALS, launch=False)
    patched = await http.patch(f"/api/tables/{draft['id']}", json={"name": "Capitals of Europe"})
    assert patched.status_code == 200
    assert patched.json()["definition"]["name"] == "Capitals of Europe"
    assert patched.json()["definition"]["template"] == CAPITALS["template"]
    bad = await http.patch(f"/api/tables/{draft['id']}", json={"template": [{"city": "Paris"}]})
    assert bad.status_code == 422
    assert error_code(bad) == "unsatisfiable_template"
    await http.post(f"/api/tables/{draft['id']}/launch")
    late = await http.patch(f"/api/tables/{draft['id']}", json={"name": "Too late"})
    assert late.status_code == 409
    assert error_code(late) == "table_not_draft"
    again = await http.post(f"/api/tables/{draft['id']}/launch")
    assert error_code(again) == "table_not_draft"


async def test_requests_without_the_requester_token_are_refused(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        missing = await anonymous.get("/api/tables")
        wrong = await anonymous.get("/api/tables", headers={"Authorization": "Bearer nope"})
    assert missing.status_code == wrong.status_code == 401
    assert error_code(missing) == "unauthorized"


async def test_malformed_definitions_get_a_4xx_naming_the_problem(http: httpx.AsyncClient) -> None:
    cases: list[tuple[Any, str]] = [
        ({**CAPITALS, "budget_cents": "lots"}, "budget_cents"),
        ({**CAPITALS, "schema": {"columns": []}}, "columns"),
        ({**CAPITALS, "colour": "blue"}, "colour"),
        ({k: v for k, v in CAPITALS.items() if k != "name"}, "name"),
        ({**CAPITALS, "scoring": {"family": "eval('1')"}}, "family"),
        ([1, 2, 3], "body"),
    ]
    for body, field in cases:
        response = await http.post("/api/tables", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == "malformed"
        assert field in response.json()["error"]["message"]
    domain_cases: list[tuple[dict[str, Any], str]] = [
        (
            {**CAPITALS, "schema": {"columns": [{"name": "a"}, {"name": "a"}]}, "template": []},
            "invalid_schema",
        ),
        ({**CAPITALS, "template": [{"country": "France"}, {"country": "France"}]}, "unsatisfiable_template"),
        ({**SOCCER, "template": [{"position": "Striker"}]}, "unsatisfiable_template"),
        ({**CAPITALS, "scoring": {"min_votes": -1}}, "invalid_scoring"),
        ({**CAPITALS, "compensation": {"column_weights": {"nope": 1}}}, "invalid_definition"),
        ({**CAPITALS, "compensation": {"growth": 0.5}}, "invalid_compensation"),
    ]
    for body, code in domain_cases:
        response = await http.post("/api/tables", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == code, response.text


async def test_bad_json_is_400_and_an_oversize_body_is_413(http: httpx.AsyncClient) -> None:
    broken = await http.post(
        "/api/tables", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert error_code(broken) == "bad_json"
    huge = {**CAPITALS, "instructions": "x" * (2 << 20)}
    response = await http.post("/api/tables", content=json.dumps(huge).encode())
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert (await http.get("/api/tables")).status_code == 200


async def test_unknown_tables_and_routes_are_404_with_an_error_body(http: httpx.AsyncClient) -> None:
    for path in ("/api/tables/t-nope", "/api/tables/t-nope/candidates", "/api/tables/t-nope/final"):
        response = await http.get(path)
        assert response.status_code == 404
        assert error_code(response) == "table_not_found"
    response = await http.get("/api/nothing-here")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    table = await create_table(http, CAPITALS)
    response = await http.get(f"/api/tables/{table['id']}/export/final.xml")
    assert error_code(response) == "not_found"
    response = await http.get(f"/api/tables/{table['id']}/log", params={"after_seq": -1})
    assert response.status_code == 422


async def test_exports_stream_the_final_and_candidate_tables_as_csv_and_jsonl(
    http: httpx.AsyncClient,
) -> None:
    table = await create_table(http, CAPITALS)
    csv_response = await http.get(f"/api/tables/{table['id']}/export/candidates.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    lines = csv_response.text.strip().splitlines()
    assert lines[0] == "row_id,country,capital,up,down,score,status"
    assert len(lines) == 3
    jsonl = await http.get(f"/api/tables/{table['id']}/export/candidates.jsonl")
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert sorted(r["values"]["country"] for r in rows) == ["France", "Spain"]
    final = await http.get(f"/api/tables/{table['id']}/export/final.csv")
    assert final.text.strip() == "row_id,country,capital"


async def test_the_log_lists_accepted_operations_in_sequence_order(http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS)
    log = (await http.get(f"/api/tables/{table['id']}/log")).json()
    assert [entry["seq"] for entry in log["ops"]] == [1, 2]
    assert {entry["op"]["type"] for entry in log["ops"]} == {"insert"}
    assert log["last_seq"] == 2
    tail = (await http.get(f"/api/tables/{table['id']}/log", params={"after_seq": 1})).json()
    assert [entry["seq"] for entry in tail["ops"]] == [2]


async def test_links_are_listed_replaced_and_revoked(http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS)
    created = await http.post(f"/api/tables/{table['id']}/links", json={"worker_id": "ann"})
    assert created.status_code == 201
    link = created.json()
    assert link["worker_id"] == "ann"
    assert link["url"].endswith(f"/w/{table['id']}?token={link['token']}")
    generated = (await http.post(f"/api/tables/{table['id']}/links")).json()
    assert generated["worker_id"].startswith("w-")
    listed = (await http.get(f"/api/tables/{table['id']}/links")).json()["links"]
    assert sorted(entry["worker_id"] for entry in listed) == sorted(["ann", generated["worker_id"]])
    revoked = await http.delete(f"/api/tables/{table['id']}/links/ann")
    assert revoked.json() == {"worker_id": "ann", "revoked": True}
    missing = await http.delete(f"/api/tables/{table['id']}/links/nobody")
    assert missing.status_code == 404
    bad = await http.post(f"/api/tables/{table['id']}/links", json={"worker_id": "central"})
    assert error_code(bad) == "malformed"
    bad = await http.post(
        f"/api/tables/{table['id']}/links", json={"worker_id": "ann", "expires_in_seconds": 0}
    )
    assert error_code(bad) == "malformed"


async def test_the_public_endpoints_serve_workers_from_mturk_and_prolific(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    draft = await create_table(http, {**CAPITALS, "prolific_completion_code": "C0DE"}, launch=False)
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        hidden = await public.get(f"/api/tables/{draft['id']}/public")
        assert hidden.status_code == 404
        refused = await public.post(
            f"/api/tables/{draft['id']}/sessions",
            json=await signed_session_body(
                http,
                draft["id"],
                {"platform": "prolific", "worker_id": "p1", "study_id": "s1", "session_id": "x1"},
            ),
        )
        assert refused.status_code in (404, 409)
        await http.post(f"/api/tables/{draft['id']}/launch")
        shown = (await public.get(f"/api/tables/{draft['id']}/public")).json()
        assert shown["name"] == "Capitals"
        assert shown["prolific_completion_url"].endswith("cc=C0DE")
        assert shown["schema"]["columns"][0]["name"] == "country"
        mturk = await public.post(
            f"/api/tables/{draft['id']}/sessions",
            json=await signed_session_body(
                http,
                draft["id"],
                {"platform": "mturk", "worker_id": "A1B2", "assignment_id": "AS1", "hit_id": "H1"},
            ),
        )
        assert mturk.status_code == 201
        assert mturk.json()["worker_id"] == "mturk:A1B2"
        preview = await public.post(
            f"/api/tables/{draft['id']}/sessions",
            json={
                "platform": "mturk",
                "worker_id": "A1B2",
                "assignment_id": "ASSIGNMENT_ID_NOT_AVAILABLE",
                "hit_id": "H1",
            },
        )
        assert error_code(preview) == "preview"
        wrong = await public.post(f"/api/tables/{draft['id']}/sessions", json={"platform": "upwork"})
        assert wrong.status_code == 422
        await http.post(f"/api/tables/{draft['id']}/workers/prolific:p9/block")
        blocked = await public.post(
            f"/api/tables/{draft['id']}/sessions",
            json=await signed_session_body(
                http,
                draft["id"],
                {"platform": "prolific", "worker_id": "p9", "study_id": "s1", "session_id": "x1"},
            ),
        )
        assert error_code(blocked) == "worker_blocked"


async def test_pages_are_served_from_the_web_folder_or_explained_when_missing(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as browser:
        docs = await browser.get("/docs")
        assert docs.status_code == 200
        schema = (await browser.get("/openapi.json")).json()
        assert "/api/tables/{table_id}/launch" in schema["paths"]
        for path, name in (
            ("/", "index.html"),
            ("/tables/t-1/monitor", "monitor.html"),
            ("/w/t-1", "worker.html"),
        ):
            response = await browser.get(path)
            if (server.settings.web_dir / name).is_file():
                assert response.status_code == 200
            else:
                assert response.status_code == 404
                assert error_code(response) == "page_missing"
        vendor = await browser.get("/vendor/socket.io.min.js")
        if (server.settings.web_dir / "node_modules/socket.io-client/dist/socket.io.min.js").is_file():
            assert vendor.status_code == 200
            assert "javascript" in vendor.headers["content-type"]


async def test_closing_a_live_table_settles_it(http: httpx.AsyncClient) -> None:
    table = await create_table(http, CAPITALS)
    closed = await http.post(f"/api/tables/{table['id']}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    compensation = (await http.get(f"/api/tables/{table['id']}/compensation")).json()
    assert compensation["settled"] is True
    assert compensation["settlement"]["paid_cents"] <= CAPITALS["budget_cents"]
    again = await http.post(f"/api/tables/{table['id']}/close")
    assert again.status_code == 409


async def test_the_public_table_shows_the_template_and_on_request_the_rows_without_vote_counts(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        plain = (await public.get(f"/api/tables/{table['id']}/public")).json()
        with_rows = (await public.get(f"/api/tables/{table['id']}/public", params={"rows": "true"})).json()
    assert plain["template"] == CAPITALS["template"]
    assert "rows" not in plain  # a joining worker gets the rows in the socket snapshot
    assert sorted(row["values"]["country"] for row in with_rows["rows"]) == ["France", "Spain"]
    assert all(set(row) == {"row_id", "values"} for row in with_rows["rows"])


async def test_a_platform_workers_id_is_the_one_the_market_helpers_read_back(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    async with httpx.AsyncClient(base_url=server.base_url) as public:
        sessions = f"/api/tables/{table['id']}/sessions"
        mturk = await public.post(
            sessions,
            json=await signed_session_body(
                http,
                table["id"],
                {"platform": "mturk", "worker_id": "A9", "assignment_id": "AS9", "hit_id": "H9"},
            ),
        )
        prolific = await public.post(
            sessions,
            json=await signed_session_body(
                http,
                table["id"],
                {"platform": "prolific", "worker_id": "p9", "study_id": "s9", "session_id": "x9"},
            ),
        )
        preview = await public.post(
            sessions,
            json={
                "platform": "mturk",
                "worker_id": "A9",
                "assignment_id": identity.MTURK_PREVIEW_ASSIGNMENT,
                "hit_id": "H9",
            },
        )
    # Payment code strips these prefixes again: server and markets must agree on them.
    assert mturk.json()["worker_id"] == identity.mturk_worker("A9")
    assert identity.mturk_worker_id(mturk.json()["worker_id"]) == "A9"
    assert prolific.json()["worker_id"] == identity.prolific_worker("p9")
    assert identity.market_of(prolific.json()["worker_id"]) == "prolific"
    assert error_code(preview) == "preview"


async def test_a_table_defined_without_scoring_is_stored_with_reputation_scoring_and_three_votes(
    http: httpx.AsyncClient,
) -> None:
    bare = {key: value for key, value in CAPITALS.items() if key != "scoring"}
    table = await create_table(http, bare, launch=False)
    assert table["definition"]["scoring"]["family"] == "reputation"
    assert table["definition"]["scoring"]["min_votes"] == 3
    patched = await http.patch(f"/api/tables/{table['id']}", json={"scoring": {"family": "threshold"}})
    assert patched.json()["definition"]["scoring"]["family"] == "threshold"
    assert patched.json()["definition"]["scoring"]["min_votes"] == 2
    gate = await http.patch(f"/api/tables/{table['id']}", json={"scoring": {"min_votes": 4}})
    assert gate.json()["definition"]["scoring"]["family"] == "threshold"  # not the default family
    assert gate.json()["definition"]["scoring"]["min_votes"] == 4
