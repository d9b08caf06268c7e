"""Screening before work over the real server: the qualification, passing, failing for good."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, worker_token
from tests.support.worker_client import WorkerClient, refusal

GOLD: list[dict[str, Any]] = [
    {"values": {"country": "France", "capital": "Paris"}, "verdict": True},
    {"values": {"country": "Spain", "capital": "Barcelona"}, "verdict": False},
    {"values": {"country": "Italy", "capital": "Rome"}, "verdict": True},
]
SCREENED: dict[str, Any] = {
    **CAPITALS,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
    "gold": GOLD,
    "screening": {"gold_rows": 2, "pass_fraction": 1},
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answers_for(rows: list[dict[str, Any]], right: bool) -> dict[str, str]:
    verdicts = {tuple(sorted(g["values"].items())): g["verdict"] for g in GOLD}
    return {
        row["row_id"]: "up" if verdicts[tuple(sorted(row["values"].items()))] == right else "down"
        for row in rows
    }


async def test_a_worker_answers_the_qualification_first_and_joins_only_after_passing(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, SCREENED)
    stored = (await http.get(f"/api/tables/{table['id']}/gold")).json()["gold"]
    token = await worker_token(http, table["id"], "ann")
    refused = await refusal(server.base_url, {"token": token})
    assert refused["code"] == "screening_required"
    url = f"{server.base_url}/api/tables/{table['id']}/screening"
    async with httpx.AsyncClient(timeout=10) as worker_http:
        pending = (await worker_http.get(url, headers=bearer(token))).json()
        assert pending["status"] == "pending"
        assert [row["row_id"] for row in pending["rows"]] == ["q1", "q2"]
        # The screening rows are the first two gold rows, shown without their ids.
        assert {row["values"]["country"] for row in pending["rows"]} == {"France", "Spain"}
        half = await worker_http.post(url, json={"answers": {"q1": "up"}}, headers=bearer(token))
        assert half.status_code == 422
        assert "no answer for ['q2']" in half.json()["error"]["message"]
        passed = await worker_http.post(
            url, json={"answers": answers_for(pending["rows"], True)}, headers=bearer(token)
        )
        assert passed.json()["status"] == "passed", passed.text
    ann = WorkerClient(server.base_url, token)
    await ann.connect()
    ids = set(ann.rows())
    assert stored[2]["id"] in ids  # the live gold row is mixed in
    assert not {stored[0]["id"], stored[1]["id"]} & ids  # screening rows are held back
    await ann.disconnect()


async def test_a_worker_who_fails_is_told_politely_and_refused_on_every_later_session(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, SCREENED)
    token = await worker_token(http, table["id"], "bob")
    url = f"{server.base_url}/api/tables/{table['id']}/screening"
    async with httpx.AsyncClient(timeout=10) as worker_http:
        rows = (await worker_http.get(url, headers=bearer(token))).json()["rows"]
        failed = (
            await worker_http.post(url, json={"answers": answers_for(rows, False)}, headers=bearer(token))
        ).json()
        assert failed["status"] == "failed"
        assert "Thank you" in failed["message"]
        # No second try: the first outcome stands.
        again = await worker_http.post(url, json={"answers": answers_for(rows, True)}, headers=bearer(token))
        assert again.json()["status"] == "failed"
    refused = await refusal(server.base_url, {"token": token})
    assert refused["code"] == "screening_failed"
    fresh = await worker_token(http, table["id"], "bob")  # a new link for the same worker
    assert (await refusal(server.base_url, {"token": fresh}))["code"] == "screening_failed"
    listed = (await http.get(f"/api/tables/{table['id']}/workers")).json()["workers"]
    assert [(w["worker_id"], w["screening"]) for w in listed] == [
        ("bob", {"status": "failed", "right": 0, "asked": 2})
    ]
    answers = (await http.get(f"/api/tables/{table['id']}/gold/answers")).json()["gold"]
    screening_votes = [v for entry in answers if entry["use"] == "screening" for v in entry["votes"]]
    assert {(v["worker_id"], v["right"]) for v in screening_votes} == {("bob", False)}
    assert len(screening_votes) == 2
