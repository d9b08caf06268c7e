"""Several real Socket.IO workers on one table: duplication on conflict, convergence, votes, monitor."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import httpx
import socketio

from tests.support.crowd import Crowd, crowd, join
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, SOCCER, candidates, create_table
from tests.support.worker_client import WorkerClient


async def converge(http: httpx.AsyncClient, table_id: str, workers: list[WorkerClient]) -> dict[str, Any]:
    """Wait until every worker has seen every op, then check replicas equal the server's table."""
    server_view = await candidates(http, table_id)
    for worker in workers:
        await worker.wait_for_seq(server_view["seq"])
    expected = {row["row_id"]: row["values"] for row in server_view["rows"]}
    for worker in workers:
        replica = {row_id: dict(values) for row_id, values in worker.rows().items()}
        assert replica == expected, worker.worker_id
    return server_view


def row_with(rows: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    matches = [row for row in rows if row["values"] == values]
    assert len(matches) == 1, (values, rows)
    return matches[0]


async def test_simultaneous_fills_of_one_row_duplicate_it_and_every_replica_equals_the_server(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann", "bob", "cat")
    table, (ann, bob, cat) = players.table, players.workers
    brazil = players.row_id(nationality="Brazil")
    acks = await asyncio.gather(
        ann.fill(brazil, "name", "Neymar"),
        bob.fill(brazil, "name", "Pelé"),
        cat.fill(brazil, "position", "FW"),
    )
    assert all(ack["ok"] for ack in acks), acks
    assert len({ack["seq"] for ack in acks}) == 3
    view = await converge(http, table["id"], [ann, bob, cat])
    rows = view["rows"]
    assert brazil not in {row["row_id"] for row in rows}
    assert row_with(rows, nationality="Brazil", name="Neymar")
    assert row_with(rows, nationality="Brazil", name="Pelé")
    assert row_with(rows, nationality="Brazil", position="FW")
    # Every worker received the two operations of the others as "op" events, not its own.
    for worker, ack in zip((ann, bob, cat), acks, strict=True):
        forwarded = {entry["seq"] for entry in worker.forwarded}
        assert ack["seq"] not in forwarded
        assert {a["seq"] for a in acks} - {ack["seq"]} <= forwarded
    await players.disconnect()


async def test_many_concurrent_operations_converge_on_every_replica(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    definition = {
        **CAPITALS,
        "schema": {"columns": [{"name": "country"}, {"name": "capital"}, {"name": "river"}]},
        "template": [{} for _ in range(6)],
    }
    table = await create_table(http, definition)
    workers = await join(server, http, table["id"], "w1", "w2", "w3", "w4")

    async def busy(worker: WorkerClient, index: int) -> None:
        for step in range(12):
            rows = worker.rows()
            empty = [
                (rid, c)
                for rid, values in rows.items()
                for c in ("country", "capital", "river")
                if c not in dict(values)
            ]
            if not empty:
                return
            row_id, column = empty[(index * 7 + step) % len(empty)]
            ack = await worker.fill(row_id, column, f"{worker.worker_id}-{step}")
            assert ack["ok"] or ack["error"]["code"] in ("cell_already_filled",), ack

    await asyncio.gather(*(busy(worker, i) for i, worker in enumerate(workers)))
    await converge(http, table["id"], workers)
    for worker in workers:
        await worker.disconnect()


async def test_votes_propagate_and_a_second_vote_on_the_same_row_is_refused(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    voters = await crowd(server, http, CAPITALS, "ann", "bob", "cat")
    table, (ann, bob, cat) = voters.table, voters.workers
    france = voters.row_id(country="France")
    filled = await ann.fill(france, "capital", "Paris", new_row_id="paris-1")
    assert filled["ok"]
    assert filled["op"]["upvote"] is True  # the completing fill upvotes for the filler
    assert filled["op"]["values"] == {"capital": "Paris", "country": "France"}
    again = await ann.upvote("paris-1")
    assert again == {"ok": False, "error": {"code": "duplicate_vote", "message": again["error"]["message"]}}
    await bob.wait_for(lambda: "paris-1" in bob.rows())
    up = await bob.upvote("paris-1")
    assert up["ok"]
    assert up["op"]["type"] == "upvote"
    assert up["op"]["worker"] == "bob"
    twice = await bob.upvote("paris-1")
    assert twice["error"]["code"] == "duplicate_vote"
    await cat.wait_for(lambda: any(e["op"]["worker"] == "bob" for e in cat.forwarded))
    view = await converge(http, table["id"], [ann, bob, cat])
    paris = row_with(view["rows"], country="France", capital="Paris")
    assert (paris["up"], paris["down"], paris["score"], paris["status"]) == (2, 0, 2, "green")
    await voters.disconnect()


async def test_the_monitor_sees_counts_and_colours_change(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, CAPITALS)
    updates: list[dict[str, Any]] = []
    arrived = asyncio.Condition()
    monitor = socketio.AsyncClient(reconnection=False)

    async def on_monitor(data: dict[str, Any]) -> None:
        async with arrived:
            updates.append(data)
            arrived.notify_all()

    monitor.on("monitor", on_monitor, namespace="/monitor")
    await monitor.connect(
        server.base_url,
        namespaces=["/monitor"],
        auth={"token": server.settings.requester_token, "table_id": table["id"]},
        transports=["websocket"],
    )

    async def seen(predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        """The latest monitor update that satisfies ``predicate``, waiting for new updates if none does."""

        def latest() -> dict[str, Any] | None:
            return next((dict(u) for u in reversed(updates) if predicate(u)), None)

        try:
            async with arrived, asyncio.timeout(timeout):
                await arrived.wait_for(lambda: latest() is not None)
        except TimeoutError:
            raise AssertionError(
                f"monitor never showed it; last: {updates[-1] if updates else None}"
            ) from None
        found = latest()
        assert found is not None
        return found

    first = await seen(lambda u: len(u["rows"]) == 2)
    assert {row["status"] for row in first["rows"]} == {"blue"}
    # The schema gives the monitor its column order (no extra REST call).
    assert [c["name"] for c in first["table"]["schema"]["columns"]] == ["country", "capital"]
    assert first["table"]["status"] == "live"
    assert first["spend"]["budget_cents"] == CAPITALS["budget_cents"]
    voters = Crowd(table, await join(server, http, table["id"], "ann", "bob", "cat"))
    ann, bob, cat = voters.workers
    await seen(lambda u: u["workers_online"] == 3)
    spain, france = voters.row_id(country="Spain"), voters.row_id(country="France")
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    assert (await ann.fill(spain, "capital", "Barcelona", new_row_id="barcelona"))["ok"]
    await bob.wait_for(lambda: "barcelona" in bob.rows() and "paris" in bob.rows())
    await cat.wait_for(lambda: "barcelona" in cat.rows())
    assert (await bob.upvote("paris"))["ok"]
    assert (await bob.downvote("barcelona"))["ok"]
    assert (await cat.downvote("barcelona"))["ok"]

    def coloured(update: dict[str, Any]) -> bool:
        by_id = {row["row_id"]: row for row in update["rows"]}
        return bool(
            by_id.get("paris", {}).get("status") == "green"
            and by_id.get("barcelona", {}).get("status") == "red"
        )

    update = await seen(coloured)
    by_id = {row["row_id"]: row for row in update["rows"]}
    assert (by_id["paris"]["up"], by_id["paris"]["down"], by_id["paris"]["score"]) == (2, 0, 2)
    assert (by_id["barcelona"]["up"], by_id["barcelona"]["down"], by_id["barcelona"]["score"]) == (1, 2, -1)
    matched = {entry["position"]: entry for entry in update["matching"]}
    assert matched[0]["row_id"] == "paris"
    # The red Spain row cannot serve the template: the central client inserted a fresh Spain row.
    assert matched[1]["row_id"] not in (None, "barcelona")
    assert {w["worker_id"] for w in update["workers"] if w["online"]} == {"ann", "bob", "cat"}
    await voters.disconnect()
    await seen(lambda u: u["workers_online"] == 0)
    await monitor.disconnect()


async def test_a_completed_table_tells_everyone_the_final_table_and_their_pay(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, {**CAPITALS, "template": [{"country": "France"}]})
    ann, bob = await join(server, http, table["id"], "ann", "bob")
    france = next(iter(ann.rows()))
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    for worker in (ann, bob):
        await worker.wait_for(lambda w=worker: w.complete is not None)
    assert ann.complete is not None
    assert bob.complete is not None
    assert ann.complete["status"] == "complete"
    assert ann.complete["final"] == [{"row_id": "paris", "values": {"country": "France", "capital": "Paris"}}]
    assert ann.complete["satisfaction"] == {"0": "paris"}
    total = ann.complete["pay_cents"] + bob.complete["pay_cents"]
    assert 0 < total <= CAPITALS["budget_cents"]
    late = await bob.downvote("paris")
    assert late["error"]["code"] == "table_closed"
    described = (await http.get(f"/api/tables/{table['id']}")).json()
    assert described["status"] == "complete"
    final = (await http.get(f"/api/tables/{table['id']}/final")).json()
    assert final["satisfied"] is True
    settlement = (await http.get(f"/api/tables/{table['id']}/compensation")).json()["settlement"]
    assert settlement["payments"] == {"ann": ann.complete["pay_cents"], "bob": bob.complete["pay_cents"]}
    for worker in (ann, bob):
        await worker.disconnect()


async def test_a_reconnecting_worker_gets_what_it_missed(server: LiveServer, http: httpx.AsyncClient) -> None:
    pair = await crowd(server, http, SOCCER, "ann", "bob")
    table, (ann, bob) = pair.table, pair.workers
    await bob.disconnect()
    seen_before = bob.last_seq
    brazil = pair.row_id(nationality="Brazil")
    assert (await ann.fill(brazil, "name", "Neymar", new_row_id="ney"))["ok"]
    assert (await ann.fill("ney", "position", "FW", new_row_id="ney2"))["ok"]
    await bob.reconnect()
    assert bob.replays
    assert bob.replays[-1]["from_seq"] == seen_before
    assert [entry["op"]["new_row_id"] for entry in bob.replays[-1]["ops"]] == ["ney", "ney2"]
    await converge(http, table["id"], [ann, bob])
    for worker in (ann, bob):
        await worker.disconnect()


async def test_the_snapshot_names_the_template_so_a_page_knows_which_downvotes_are_refused(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    template = [{"country": "France", "capital": "Paris"}, {}, {}]
    table = await create_table(http, {**CAPITALS, "scoring": {"family": "difference"}, "template": template})
    ann, bob = await join(server, http, table["id"], "ann", "bob")
    assert bob.snapshots[-1]["table"]["template"] == template
    empty = [rid for rid, values in ann.rows().items() if not values]
    assert (await ann.fill(empty[0], "country", "France", new_row_id="france"))["ok"]
    assert (await ann.fill(empty[1], "country", "Atlantis", new_row_id="atlantis"))["ok"]
    await bob.wait_for(lambda: {"france", "atlantis"} <= set(bob.rows()))

    # Exactly the rows whose values lie inside a template row are refused; the page can tell which.
    outcomes: dict[str, str | None] = {}
    protected: dict[str, bool] = {}
    for row_id, values in sorted(bob.rows().items(), key=lambda item: item[0] == "atlantis"):
        if not values:
            continue
        shown = dict(values)
        protected[row_id] = any(shown.items() <= wanted.items() for wanted in template)
        ack = await bob.downvote(row_id)
        outcomes[row_id] = None if ack["ok"] else ack["error"]["code"]
    assert protected == {row_id: code == "template_protected" for row_id, code in outcomes.items()}
    assert sorted(protected.values()) == [False, True, True]
    assert outcomes["atlantis"] is None
    for worker in (ann, bob):
        await worker.disconnect()


def counts_of(worker: WorkerClient) -> dict[str, tuple[int, int]]:
    table = worker.table
    assert table is not None
    return {row.row_id: (table.up(row.row_id), table.down(row.row_id)) for row in table.rows()}


async def test_workers_take_back_their_votes_and_every_replica_counts_only_standing_votes(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    voters = await crowd(server, http, CAPITALS, "ann", "bob", "cat", "dan")
    table, (ann, bob, cat, dan) = voters.table, voters.workers
    france = voters.row_id(country="France")
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    for worker in (bob, cat, dan):
        await worker.wait_for(lambda w=worker: "paris" in w.rows())
    assert (await bob.upvote("paris"))["ok"]
    assert (await cat.upvote("paris"))["ok"]
    assert (await dan.downvote("paris"))["ok"]

    # Three retracts at once, one of them the filler's automatic upvote.
    acks = await asyncio.gather(ann.retract("paris"), bob.retract("paris"), dan.retract("paris"))
    assert all(ack["ok"] for ack in acks), acks
    assert [(a["op"]["type"], a["op"]["kind"]) for a in acks] == [
        ("retract", "up"),
        ("retract", "up"),
        ("retract", "down"),
    ]
    assert acks[0]["op"]["values"] == {"country": "France", "capital": "Paris"}

    again = await bob.upvote("paris")
    assert again["error"]["code"] == "vote_retracted"
    twice = await bob.retract("paris")
    assert twice["error"]["code"] == "no_vote_to_retract"
    assert (await bob.downvote("paris"))["ok"]  # the other sign is still open
    unknown = await bob.retract("nowhere")
    assert unknown["error"]["code"] == "unknown_row"
    malformed = await bob.emit("retract", {"row": "paris"})
    assert malformed["error"]["code"] == "malformed"

    view = await converge(http, table["id"], [ann, bob, cat, dan])
    paris = row_with(view["rows"], country="France", capital="Paris")
    assert (paris["up"], paris["down"]) == (1, 1)
    for worker in (ann, bob, cat, dan):
        assert counts_of(worker)["paris"] == (1, 1), worker.worker_id
    await voters.disconnect()


async def test_concurrent_votes_and_retracts_converge_on_every_replica(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    definition = {
        **CAPITALS,
        "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
        "scoring": {"family": "difference"},
        "template": [{} for _ in range(8)],
    }
    table = await create_table(http, definition)
    workers = await join(server, http, table["id"], "w1", "w2", "w3", "w4")
    refused: set[str] = set()
    retracted: list[str] = []

    async def busy(worker: WorkerClient, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(25):
            assert worker.table is not None
            rows = worker.table.rows()
            roll = rng.random()
            if roll < 0.35:
                open_rows = [
                    (r.row_id, c) for r in rows for c in ("country", "capital") if c not in dict(r.values)
                ]
                if not open_rows:
                    continue
                row_id, column = rng.choice(open_rows)
                ack = await worker.fill(row_id, column, rng.choice(("a", "b")))
            elif roll < 0.55:
                ack = await worker.upvote(rng.choice(rows).row_id)
            elif roll < 0.75:
                ack = await worker.downvote(rng.choice(rows).row_id)
            else:
                mine = {v for w, _, v in worker.table.vote_records() if w == worker.worker_id}
                holders = [r.row_id for r in worker.table.all_rows() if r.values in mine]
                ack = await worker.retract(rng.choice(holders or [rows[0].row_id]))
                if ack["ok"]:
                    retracted.append(ack["op"]["kind"])
            if not ack["ok"]:
                refused.add(ack["error"]["code"])

    await asyncio.gather(*(busy(worker, seed) for seed, worker in enumerate(workers)))
    view = await converge(http, table["id"], workers)
    assert retracted, "the run took no vote back"
    expected = {row["row_id"]: (row["up"], row["down"]) for row in view["rows"]}
    for worker in workers:
        assert counts_of(worker) == expected, worker.worker_id
    # Only refusals a worker acting on a slightly stale replica can meet.
    assert refused <= {
        "cell_already_filled",
        "duplicate_vote",
        "empty_row_downvoted",
        "incomplete_row_upvoted",
        "no_vote_to_retract",
        "template_protected",
        "unknown_row",
        "vote_retracted",
        "row_replaced",
    }
    for worker in workers:
        await worker.disconnect()


async def test_a_downvote_on_a_part_is_undone_through_the_replaced_row_the_snapshot_names(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await create_table(http, {**CAPITALS, "template": [{}, {}]})
    ann, bob = await join(server, http, table["id"], "ann", "bob")
    empty = next(iter(ann.rows()))
    assert (await ann.fill(empty, "country", "Atlantis", new_row_id="atl"))["ok"]
    await bob.wait_for(lambda: "atl" in bob.rows())
    assert (await bob.downvote("atl"))["ok"]
    assert (await ann.fill("atl", "capital", "Poseidonia", new_row_id="atl2"))["ok"]
    view = await converge(http, table["id"], [ann, bob])
    assert row_with(view["rows"], country="Atlantis", capital="Poseidonia")["down"] == 1

    await bob.disconnect()
    fresh = WorkerClient(server.base_url, bob.token)
    await fresh.connect()
    assert fresh.snapshots[-1]["my_votes"] == [
        {"kind": "down", "values": {"country": "Atlantis"}, "row_id": "atl"}
    ]
    wrong = await fresh.retract("atl2")
    assert wrong["error"]["code"] == "no_vote_to_retract"
    undone = await fresh.retract("atl")
    assert undone["ok"]
    assert undone["op"]["kind"] == "down"
    view = await converge(http, table["id"], [ann])
    assert row_with(view["rows"], country="Atlantis", capital="Poseidonia")["down"] == 0
    await ann.disconnect()
    await fresh.disconnect()
