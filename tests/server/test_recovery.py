"""Recovery from storage at startup, snapshots, and refusing a batch when storage fails."""

from __future__ import annotations

from pathlib import Path

import httpx

from crowdfill.store import open_store
from tests.support.live_server import live_server, test_settings
from tests.support.requester import CAPITALS, candidates, create_table, worker_token
from tests.support.stores import FailNextAppend
from tests.support.worker_client import WorkerClient

WIDE = {
    **CAPITALS,
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}, {"name": "river"}]},
    "template": [{} for _ in range(5)],
}


async def test_a_restarted_server_rebuilds_live_tables_from_snapshot_and_log(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path, snapshot_every=3)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, WIDE)
            ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
            bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
            await ann.connect()
            await bob.connect()
            rows = list(ann.rows())
            for index, row_id in enumerate(rows[:2]):
                assert (await ann.fill(row_id, "country", f"a{index}"))["ok"]
            await ann.disconnect()
            for index, row_id in enumerate(rows[2:5]):
                assert (await bob.fill(row_id, "country", f"b{index}"))["ok"]
            await bob.disconnect()
            before = await candidates(http, table["id"])
            snapshot = await server.app.store.load_snapshot(table["id"])
            assert snapshot is not None
            assert snapshot[0] < before["seq"]  # so the log tail is replayed too
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            after = await candidates(http, table["id"])
            assert after == before
            ann.base_url = server.base_url
            missed_from = ann.last_seq
            await ann.reconnect()
            assert ann.replays[-1]["from_seq"] == missed_from
            assert [e["op"]["worker"] for e in ann.replays[-1]["ops"]] == ["bob"] * 3
            expected = {r["row_id"]: r["values"] for r in after["rows"]}
            assert {k: dict(v) for k, v in ann.rows().items()} == expected
            fresh = WorkerClient(server.base_url, bob.token)
            await fresh.connect()
            assert {k: dict(v) for k, v in fresh.rows().items()} == expected
            await ann.disconnect()
            await fresh.disconnect()


async def test_a_failed_append_refuses_the_operation_and_changes_nothing() -> None:
    store = FailNextAppend(open_store("memory://"))
    with live_server(test_settings(), store=store) as server:  # type: ignore[arg-type]  # duck-typed store
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, WIDE)
            ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
            await ann.connect()
            before = await candidates(http, table["id"])
            row_id = next(iter(ann.rows()))
            store.fail_next = True
            refused = await ann.fill(row_id, "country", "Atlantis", new_row_id="lost")
            assert refused["error"]["code"] == "store_unavailable"
            assert await candidates(http, table["id"]) == before
            retried = await ann.fill(row_id, "country", "Atlantis", new_row_id="lost")
            assert retried["ok"]
            assert retried["seq"] == before["seq"] + 1
            await ann.disconnect()


async def test_retracted_votes_stay_retracted_after_a_restart(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path, snapshot_every=2)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, CAPITALS)
            ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
            bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
            await ann.connect()
            await bob.connect()
            france = next(r for r, values in ann.rows().items() if dict(values) == {"country": "France"})
            assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
            await bob.wait_for(lambda: "paris" in bob.rows())
            assert (await bob.upvote("paris"))["ok"]
            assert (await bob.retract("paris"))["ok"]  # lands in a snapshot (every 2 ops)
            assert (await ann.retract("paris"))["ok"]  # and one in the log tail
            before = await candidates(http, table["id"])
            await ann.disconnect()
            await bob.disconnect()
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            after = await candidates(http, table["id"])
            assert after == before
            paris = next(row for row in after["rows"] if row["row_id"] == "paris")
            assert (paris["up"], paris["down"]) == (0, 0)
            fresh = WorkerClient(server.base_url, bob.token)
            await fresh.connect()
            assert fresh.snapshots[-1]["my_votes"] == []
            assert fresh.snapshots[-1]["my_retracted"] == [
                {"kind": "up", "values": {"country": "France", "capital": "Paris"}}
            ]
            assert (await fresh.upvote("paris"))["error"]["code"] == "vote_retracted"
            await fresh.disconnect()
