"""A full collection of the demo table by scripted workers, from launch to payment."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from crowdfill.model import Template
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from crowdfill.model.values import Values, values_from_mapping
from crowdfill.server.demo import demo_definition
from tests.support.live_server import LiveServer
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

# What the scripted crowd knows (all true, so nobody downvotes a complete row).
PLAYERS: list[dict[str, Any]] = [
    {"name": "Neymar", "nationality": "Brazil", "position": "FW", "caps": 128, "goals": 79},
    {"name": "Ronaldinho", "nationality": "Brazil", "position": "MF", "caps": 97, "goals": 33},
    {"name": "Casillas", "nationality": "Spain", "position": "GK", "caps": 167, "goals": 0},
    {"name": "Xavi", "nationality": "Spain", "position": "MF", "caps": 133, "goals": 13},
    {"name": "Messi", "nationality": "Argentina", "position": "FW", "caps": 191, "goals": 112},
    {"name": "Ronaldo", "nationality": "Portugal", "position": "FW", "caps": 217, "goals": 135},
]


def known(values: Values) -> list[dict[str, Any]]:
    return [p for p in PLAYERS if all(p[column] == value for column, value in values)]


async def crowd_worker(worker: WorkerClient, rng: random.Random) -> None:
    """Fill toward players nobody has entered yet; upvote true complete rows; until completion."""
    voted: set[str] = set()
    while worker.complete is None:
        rows = worker.rows()
        entered = {dict(v).get("name") for v in rows.values() if len(v) == len(SOCCER_PLAYER.columns)}
        actions: list[tuple[str, str, Any]] = []
        for row_id, values in rows.items():
            players = known(values)
            if not players:
                continue
            if len(values) == len(SOCCER_PLAYER.columns):
                if row_id not in voted:
                    actions.append(("upvote", row_id, None))
                continue
            fresh = [p for p in players if p["name"] not in entered] or players
            player = rng.choice(fresh)
            column = rng.choice([c for c in SOCCER_PLAYER.names if c not in dict(values)])
            actions.append(("fill", row_id, (column, player[column])))
        if not actions:
            await worker.next_change()  # nothing to do until another worker's op (or completion) arrives
            continue
        kind, row_id, detail = rng.choice(actions)
        if kind == "upvote":
            voted.add(row_id)
            ack = await worker.upvote(row_id)
        else:
            ack = await worker.fill(row_id, detail[0], detail[1])
        if not ack["ok"]:
            assert ack["error"]["code"] in ("duplicate_vote", "table_closed", "unknown_row"), ack
        await asyncio.sleep(rng.uniform(0, 0.01))


@pytest.mark.slow
async def test_scripted_workers_complete_the_demo_table_within_the_budget(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    definition = demo_definition().model_dump(by_alias=True, mode="json")
    table = await create_table(http, definition)
    workers = [
        WorkerClient(server.base_url, await worker_token(http, table["id"], f"fan{i}")) for i in range(4)
    ]
    for worker in workers:
        await worker.connect()
    await asyncio.wait_for(
        asyncio.gather(*(crowd_worker(w, random.Random(i)) for i, w in enumerate(workers))), timeout=60
    )

    final = (await http.get(f"/api/tables/{table['id']}/final")).json()
    assert final["status"] == "complete"
    assert final["satisfied"] is True
    template = Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS)
    rows = [(row["row_id"], values_from_mapping(row["values"])) for row in final["rows"]]
    assert template.matching(rows) is not None
    for row in final["rows"]:
        assert row["values"] in PLAYERS
    pays = {}
    for worker in workers:
        assert worker.complete is not None
        assert worker.complete["final"] == final["rows"]
        pays[worker.worker_id] = worker.complete["pay_cents"]
    settlement = (await http.get(f"/api/tables/{table['id']}/compensation")).json()["settlement"]
    assert {w: c for w, c in settlement["payments"].items() if c} == {w: c for w, c in pays.items() if c}
    assert sum(pays.values()) == settlement["paid_cents"] <= definition["budget_cents"]
    assert settlement["paid_cents"] + settlement["unpaid_cents"] == definition["budget_cents"]
    inserted = [
        e
        for e in (await http.get(f"/api/tables/{table['id']}/log")).json()["ops"]
        if e["op"]["type"] == "insert"
    ]
    assert len(inserted) >= len(SOCCER_TEMPLATE_ROWS)
    for worker in workers:
        await worker.disconnect()
