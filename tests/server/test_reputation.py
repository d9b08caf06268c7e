"""Reputation over the real server: reweighs sequenced by the emitter, quarantine, exclusion by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from crowdfill.model import Values
from crowdfill.server.definition import TableSpec
from tests.server.test_idle_tables import until_unloaded
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import CAPITALS, candidates, create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient

# Every operation is looked at at once (every_ops 1), and no timer: the test decides the pace.
QUALITY = {"floor": 0.6, "step": 0.25, "every_ops": 1, "every_seconds": 0}
REPUTATION_CAPITALS: dict[str, Any] = {
    **CAPITALS,
    "scoring": {"family": "reputation", "min_votes": 2},
    "quality": QUALITY,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}
LYON_IS_FRANCE = frozenset({("country", "France"), ("capital", "Lyon")})


def with_gold(server: LiveServer, gold: dict[Values, bool]) -> None:
    """Gold verdicts for every table (what crowdfill.server.gold will provide from the definition)."""

    def verdicts(spec: TableSpec) -> dict[Values, bool]:
        return gold

    server.app.reputation.gold = verdicts


async def join(server: LiveServer, http: httpx.AsyncClient, table_id: str, worker: str) -> WorkerClient:
    client = WorkerClient(server.base_url, await worker_token(http, table_id, worker))
    await client.connect()
    return client


def row_of(client: WorkerClient, **values: str) -> str:
    wanted = frozenset(values.items())
    return next(row_id for row_id, held in client.rows().items() if held == wanted)


async def reputation(http: httpx.AsyncClient, table_id: str) -> dict[str, dict[str, Any]]:
    response = await http.get(f"/api/tables/{table_id}/reputation")
    assert response.status_code == 200, response.text
    return {row["worker_id"]: row for row in response.json()["workers"]}


async def test_a_definition_takes_reputation_scoring_and_a_quality_block_and_refuses_a_bad_floor(
    http: httpx.AsyncClient,
) -> None:
    table = await create_table(http, REPUTATION_CAPITALS, launch=False)
    assert table["definition"]["scoring"]["family"] == "reputation"
    assert table["definition"]["quality"] == QUALITY
    refused = await http.post("/api/tables", json={**REPUTATION_CAPITALS, "quality": {"floor": 1.5}})
    assert refused.status_code == 422
    assert "floor" in refused.text


async def test_a_worker_voting_wrong_on_gold_is_quarantined_by_a_sequenced_reweigh_and_told_so(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    with_gold(server, {LYON_IS_FRANCE: False})
    table = await create_table(http, REPUTATION_CAPITALS)
    mallory = await join(server, http, table["id"], "mallory")
    ann = await join(server, http, table["id"], "ann")
    assert mallory.snapshots[-1]["standing"] == {"weight": 1.0, "counted": True, "status": "counted"}

    filled = await mallory.fill(row_of(mallory, country="France"), "capital", "Lyon")
    assert filled["ok"], filled

    await mallory.wait_for(lambda: any(not s["counted"] for s in mallory.standings))
    assert mallory.standings[-1] == {"weight": 0.0, "counted": False, "status": "quarantined"}
    # The reweigh is an ordinary sequenced op: in the log and forwarded to the other pages.
    log = (await http.get(f"/api/tables/{table['id']}/log")).json()["ops"]
    reweighs = [entry["op"] for entry in log if entry["op"]["type"] == "reweigh"]
    assert reweighs == [{"type": "reweigh", "worker": "mallory", "weight": 0.0, "version": 1}]
    await ann.wait_for(lambda: any(entry["op"]["type"] == "reweigh" for entry in ann.forwarded))
    assert ann.standings == []  # only the worker concerned is told
    shown = await reputation(http, table["id"])
    assert shown["mallory"]["status"] == "quarantined"
    assert shown["mallory"]["evidence"] == 1
    assert shown["mallory"]["gold_votes"] == 1
    assert shown["mallory"]["estimate"] < QUALITY["floor"]
    # Her upvote on her own Lyon row no longer counts: the row scores 0.
    lyon = next(
        r for r in (await candidates(http, table["id"]))["rows"] if r["values"].get("capital") == "Lyon"
    )
    assert lyon["up"] == 1
    assert lyon["score"] == 0
    # A joining page learns it from the snapshot.
    again = await join(server, http, table["id"], "mallory")
    assert again.snapshots[-1]["standing"]["status"] == "quarantined"
    # Her fills are refused from now on (as in the simulator: the model's validate); others' are not.
    refused = await again.fill(row_of(again, country="Spain"), "capital", "Seville")
    assert refused["ok"] is False
    assert refused["error"]["code"] == "filler_not_counted"
    accepted = await ann.fill(row_of(ann, country="Spain"), "capital", "Madrid")
    assert accepted["ok"], accepted
    for client in (mallory, ann, again):
        await client.disconnect()


async def test_an_excluded_workers_votes_stop_counting_until_the_requester_undoes_it(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, {**CAPITALS, "rate_limit": {"ops_per_second": 1000, "burst": 1000}})
    ann = await join(server, http, table["id"], "ann")
    bob = await join(server, http, table["id"], "bob")
    filled = await ann.fill(row_of(ann, country="France"), "capital", "Paris")
    assert filled["ok"], filled
    await bob.wait_for_seq(filled["seq"])
    paris = filled["op"]["new_row_id"]
    assert (await bob.upvote(paris))["ok"]

    def status_of_paris(rows: list[dict[str, Any]]) -> tuple[int, bool]:
        row = next(r for r in rows if r["row_id"] == paris)
        return row["score"], row["final"]

    assert status_of_paris((await candidates(http, table["id"]))["rows"]) == (2, True)
    await bob.wait_for(lambda: bool(bob.estimates) and bob.estimates[-1]["total"] > 0)

    excluded = await http.post(f"/api/tables/{table['id']}/workers/bob/exclusion")
    assert excluded.status_code == 200, excluded.text
    assert excluded.json()["status"] == "excluded"
    # Threshold scoring gates at 2 upvotes: with Bob's vote gone Paris scores 0 and is not final.
    assert status_of_paris((await candidates(http, table["id"]))["rows"]) == (0, False)
    await bob.wait_for(lambda: bool(bob.standings))
    assert bob.standings[-1]["status"] == "excluded"
    # His live estimate follows: an excluded worker is promised nothing.
    await bob.wait_for(lambda: bool(bob.estimates) and bob.estimates[-1]["total"] == 0)
    assert (await reputation(http, table["id"]))["bob"]["status"] == "excluded"

    undone = await http.delete(f"/api/tables/{table['id']}/workers/bob/exclusion")
    assert undone.json()["status"] == "counted"
    assert status_of_paris((await candidates(http, table["id"]))["rows"]) == (2, True)
    await bob.wait_for(lambda: bob.standings[-1]["status"] == "counted")
    log = (await http.get(f"/api/tables/{table['id']}/log")).json()["ops"]
    assert [entry["op"] for entry in log if entry["op"]["type"] == "reweigh"] == [
        {"type": "reweigh", "worker": "bob", "weight": 0.0, "version": 1, "excluded": True},
        {"type": "reweigh", "worker": "bob", "weight": 1.0, "version": 2},
    ]
    await ann.disconnect()
    await bob.disconnect()


async def test_excluding_an_unknown_worker_or_on_a_draft_is_refused(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    unknown = await http.post(f"/api/tables/{table['id']}/workers/nobody/exclusion")
    assert unknown.status_code == 404
    assert error_code(unknown) == "worker_not_found"
    draft = await create_table(http, CAPITALS, launch=False)
    refused = await http.post(f"/api/tables/{draft['id']}/workers/ann/exclusion")
    assert refused.status_code == 409
    assert error_code(refused) == "table_not_live"
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        assert (await anonymous.get(f"/api/tables/{table['id']}/reputation")).status_code == 401


async def test_an_excluded_worker_is_paid_nothing_the_report_says_why_and_the_audit_replays_it(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, {**CAPITALS, "rate_limit": {"ops_per_second": 1000, "burst": 1000}})
    ann = await join(server, http, table["id"], "ann")
    bob = await join(server, http, table["id"], "bob")
    cid = await join(server, http, table["id"], "cid")
    paris = await ann.fill(row_of(ann, country="France"), "capital", "Paris")
    madrid = await bob.fill(row_of(bob, country="Spain"), "capital", "Madrid")
    for client in (ann, bob, cid):
        await client.wait_for_seq(max(paris["seq"], madrid["seq"]))
    assert (await bob.upvote(paris["op"]["new_row_id"]))["ok"]
    assert (await http.post(f"/api/tables/{table['id']}/workers/bob/exclusion")).status_code == 200
    # Bob's Madrid and his vote on Paris count for nothing: others must carry both rows.
    assert (await cid.upvote(paris["op"]["new_row_id"]))["ok"]
    assert (await ann.upvote(madrid["op"]["new_row_id"]))["ok"]
    assert (await cid.upvote(madrid["op"]["new_row_id"]))["ok"]
    await ann.wait_for(lambda: ann.complete is not None)

    report = (await http.get(f"/api/tables/{table['id']}/compensation")).json()
    settlement = report["settlement"]
    assert settlement["payments"].get("bob", 0) == 0
    assert settlement["excluded_workers"] == ["bob"]
    assert settlement["unpaid_reasons"]["excluded_workers"] > 0
    assert settlement["paid_cents"] + settlement["unpaid_cents"] == CAPITALS["budget_cents"]
    assert settlement["payments"]["ann"] > 0
    audited = (await http.get(f"/api/tables/{table['id']}/audit")).json()
    assert audited["ok"], audited
    for client in (ann, bob, cid):
        await client.disconnect()


async def test_gold_rows_of_the_definition_judge_voters_without_any_injected_verdicts(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    wrong_gold = {"values": {"country": "Italy", "capital": "Milan"}, "verdict": False}
    table = await create_table(http, {**REPUTATION_CAPITALS, "gold": [wrong_gold]})
    mallory = await join(server, http, table["id"], "mallory")
    gold_row = row_of(mallory, country="Italy", capital="Milan")

    voted = await mallory.upvote(gold_row)
    assert voted["ok"], voted

    await mallory.wait_for(lambda: any(not s["counted"] for s in mallory.standings))
    rows = await reputation(http, table["id"])
    assert rows["mallory"]["status"] == "quarantined"
    assert rows["mallory"]["gold_votes"] == 1
    await mallory.disconnect()


async def test_a_reputation_table_unloaded_while_idle_reweighs_again_once_it_reloads(tmp_path: Path) -> None:
    wrong_gold = {"values": {"country": "Italy", "capital": "Milan"}, "verdict": False}
    settings = test_settings(store_url=None, data_dir=tmp_path, idle_unload_seconds=0.3)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, {**REPUTATION_CAPITALS, "gold": [wrong_gold]})
            await until_unloaded(server, table["id"])
            mallory = await join(server, http, table["id"], "mallory")  # loads it again

            voted = await mallory.upvote(row_of(mallory, country="Italy", capital="Milan"))
            assert voted["ok"], voted

            await mallory.wait_for(lambda: any(not s["counted"] for s in mallory.standings))
            await mallory.disconnect()
