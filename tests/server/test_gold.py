"""Gold rows over the real server: definition checks, REST while draft, the wire, monitor and exports."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import httpx

from crowdfill.model import CandidateTable
from crowdfill.server.definition import spec_from_json
from crowdfill.server.gold import gold_verdicts
from tests.support.crowd import join
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import CAPITALS, candidates, create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient, schema_from_json

FAST = {"rate_limit": {"ops_per_second": 1000, "burst": 1000}}
TRUE_PARIS = {"values": {"country": "France", "capital": "Paris"}, "verdict": True}
FALSE_MADRID = {"values": {"country": "Spain", "capital": "Barcelona"}, "verdict": False}


def definition(**extra: Any) -> dict[str, Any]:
    return {**CAPITALS, **FAST, **extra}


async def draft(http: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    return await create_table(http, definition(**extra), launch=False)


async def test_a_definition_refuses_gold_rows_naming_the_problem(http: httpx.AsyncClient) -> None:
    cases = {
        "incomplete": [{"values": {"country": "France"}, "verdict": True}],
        "unknown column": [
            {"values": {"country": "France", "capital": "Paris", "mayor": "x"}, "verdict": True}
        ],
        "duplicates gold row 1": [TRUE_PARIS, {**TRUE_PARIS, "verdict": False}],
        "breaks the column rules": [{"values": {"country": "France", "capital": 3}, "verdict": True}],
    }
    schema = {"columns": [{"name": "country"}, {"name": "capital", "max_length": 20}], "key": ["country"]}
    for problem, gold in cases.items():
        response = await http.post("/api/tables", json=definition(gold=gold, schema=schema))
        assert response.status_code == 422, (problem, response.text)
        assert problem in response.json()["error"]["message"], (problem, response.text)
    too_many = await http.post(
        "/api/tables", json=definition(gold=[TRUE_PARIS], screening={"gold_rows": 2, "pass_fraction": 1})
    )
    assert "screening asks for 2 gold row(s)" in too_many.json()["error"]["message"]


async def test_gold_rows_are_added_listed_removed_and_imported_while_draft_and_refused_after(
    http: httpx.AsyncClient,
) -> None:
    table = await draft(http)
    base = f"/api/tables/{table['id']}/gold"
    added = await http.post(base, json=TRUE_PARIS)
    assert added.status_code == 201, added.text
    paris = added.json()
    assert paris["values"] == TRUE_PARIS["values"]
    assert paris["verdict"] is True
    assert re.fullmatch(r"w-[0-9a-f]{24}", paris["id"])
    body = "country,capital,verdict\nSpain,Barcelona,false\nItaly,Rome,yes\n"
    imported = await http.post(f"{base}/csv", content=body, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 2
    listed = (await http.get(base)).json()["gold"]
    assert [(g["values"]["country"], g["verdict"]) for g in listed] == [
        ("France", True),
        ("Spain", False),
        ("Italy", True),
    ]
    bad = await http.post(f"{base}/csv", content="country,capital,verdict\nPeru,,true\n")
    assert bad.status_code == 422
    assert "CSV line 2 is incomplete" in bad.json()["error"]["message"]
    header = await http.post(f"{base}/csv", content="country,verdict\nPeru,true\n")
    assert "lacks column(s) ['capital']" in header.json()["error"]["message"]
    removed = await http.delete(f"{base}/{listed[2]['id']}")
    assert removed.json() == {"id": listed[2]["id"], "deleted": True}
    assert len((await http.get(base)).json()["gold"]) == 2
    missing = await http.delete(f"{base}/w-000000000000000000000000")
    assert missing.status_code == 404
    await http.post(f"/api/tables/{table['id']}/launch")
    late = await http.post(base, json=FALSE_MADRID)
    assert late.status_code == 409
    assert error_code(late) == "table_not_draft"
    assert "only be changed while the table is a draft" in late.json()["error"]["message"]
    assert (await http.delete(f"{base}/{listed[0]['id']}")).status_code == 409


async def test_workers_receive_gold_rows_as_plain_central_rows_and_their_votes_are_recorded(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, definition(gold=[TRUE_PARIS, FALSE_MADRID]))
    stored = (await http.get(f"/api/tables/{table['id']}")).json()["definition"]
    spec = spec_from_json(stored)
    gold_ids = {g["id"] for g in stored["gold"]}
    assert set(gold_verdicts(spec).values()) == {True, False}
    (ann, bob) = await join(server, http, table["id"], "ann", "bob")
    snapshot = ann.snapshots[-1]
    by_id = {row["row_id"]: row for row in snapshot["rows"]}
    assert gold_ids <= by_id.keys()
    template_row = next(r for r in snapshot["rows"] if r["row_id"] not in gold_ids)
    assert by_id[next(iter(gold_ids))].keys() == template_row.keys()  # same fields, no flag
    paris = next(g["id"] for g in stored["gold"] if g["verdict"])
    madrid = next(g["id"] for g in stored["gold"] if not g["verdict"])
    assert (await ann.upvote(paris))["ok"]
    assert (await bob.downvote(madrid))["ok"]
    # The log holds the flag; what a reconnecting worker replays and any forwarded op do not.
    log = (await http.get(f"/api/tables/{table['id']}/log")).json()
    logged = [e["op"] for e in log["ops"] if e["op"]["type"] == "insert" and e["op"]["row_id"] in gold_ids]
    assert all(op["gold"] is True and op["worker"] == "central" for op in logged)
    assert len(logged) == 2
    # The log holds the flag; a worker asking to replay past the gold inserts gets a snapshot.
    dan = WorkerClient(server.base_url, await worker_token(http, table["id"], "dan"))
    dan.table = CandidateTable(schema_from_json(stored["schema"]))
    await dan.connect(last_seq=0)
    assert dan.replays == []
    assert gold_ids <= set(dan.rows())
    assert all("gold" not in entry["op"] for entry in dan.forwarded)
    await ann.reconnect()  # from after the gold inserts: an ordinary replay
    assert ann.replays
    await dan.disconnect()
    # Gold rows are not candidates, never final, and are listed apart with each voter's answer.
    view = await candidates(http, table["id"])
    assert not gold_ids & {row["row_id"] for row in view["rows"]}
    answers = (await http.get(f"/api/tables/{table['id']}/gold/answers")).json()["gold"]
    votes = {a["id"]: [(v["worker_id"], v["answer"], v["right"]) for v in a["votes"]] for a in answers}
    assert votes == {paris: [("ann", "up", True)], madrid: [("bob", "down", True)]}
    exported = (await http.get(f"/api/tables/{table['id']}/gold/answers.csv")).text
    lines = list(csv.DictReader(io.StringIO(exported)))
    assert {(line["country"], line["worker_id"], line["answer"], line["right"]) for line in lines} == {
        ("France", "ann", "up", "true"),
        ("Spain", "bob", "down", "true"),
    }
    final_csv = (await http.get(f"/api/tables/{table['id']}/export/candidates.csv")).text
    assert not any(gold_id in final_csv for gold_id in gold_ids)
    await ann.disconnect()
    await bob.disconnect()


async def test_a_gold_row_sharing_a_real_rows_key_leaves_that_row_and_the_final_table_alone(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    wrong_france = {"values": {"country": "France", "capital": "Lyon"}, "verdict": False}
    table = await create_table(http, definition(gold=[wrong_france]))
    gold_id = (await http.get(f"/api/tables/{table['id']}/gold")).json()["gold"][0]["id"]
    ann, bob, cat = await join(server, http, table["id"], "ann", "bob", "cat")
    france = next(rid for rid, v in ann.rows().items() if dict(v) == {"country": "France"})
    filled = await ann.fill(france, "capital", "Paris", new_row_id="paris-1")
    assert filled["ok"]
    assert (await bob.upvote("paris-1"))["ok"]
    for worker in (ann, bob, cat):
        assert (await worker.upvote(gold_id))["ok"]  # the wrong gold row outscores Paris
    view = await candidates(http, table["id"])
    paris = next(row for row in view["rows"] if row["row_id"] == "paris-1")
    assert (paris["status"], paris["final"], paris["group"]) == ("green", True, ["key", ["France"]])
    final = (await http.get(f"/api/tables/{table['id']}/final")).json()["rows"]
    assert [row["row_id"] for row in final] == ["paris-1"]
    matching = (await http.get(f"/api/tables/{table['id']}/matching")).json()["template"]
    assert gold_id not in {entry["row_id"] for entry in matching}
    for worker in (ann, bob, cat):
        await worker.disconnect()


async def test_after_a_restart_gold_rows_are_still_gold_inserted_once_and_the_log_audits_clean(
    tmp_path: Path,
) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path, snapshot_every=3)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, definition(gold=[TRUE_PARIS, FALSE_MADRID]))
            gold_ids = {g["id"] for g in (await http.get(f"/api/tables/{table['id']}/gold")).json()["gold"]}
            (ann,) = await join(server, http, table["id"], "ann")
            for gold_id in sorted(gold_ids):
                assert (await ann.upvote(gold_id))["ok"]
            await ann.disconnect()
            before = (await http.get(f"/api/tables/{table['id']}/gold/answers")).json()
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            assert (await http.get(f"/api/tables/{table['id']}/gold/answers")).json() == before
            log = (await http.get(f"/api/tables/{table['id']}/log")).json()["ops"]
            inserted = [e["op"]["row_id"] for e in log if e["op"]["type"] == "insert" and e["op"].get("gold")]
            assert sorted(inserted) == sorted(gold_ids)  # not inserted again by the restarted owner
            view = await candidates(http, table["id"])
            assert not gold_ids & {row["row_id"] for row in view["rows"]}
            audit = (await http.get(f"/api/tables/{table['id']}/audit")).json()
            assert audit["ok"], audit
