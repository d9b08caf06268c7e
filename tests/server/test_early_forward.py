"""Early forwarding (docs/protocol.md, "Incarnations"): the others see a batch before it is durable,
its senders are acknowledged after; a lost batch resets the clients that saw it; a client of an
earlier run of the owner gets a replay only when everything it saw is in the log."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from crowdfill.store import open_store
from crowdfill.store.factory import DEFAULT_SQLITE_NAME
from crowdfill.store.port import LogRecord, Store, StoreError
from tests.support.live_server import ServerProcess, live_server, test_settings
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient, first_answer

WIDE: dict[str, Any] = {
    "name": "Wide",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
    "template": [{} for _ in range(8)],
    "budget_cents": 1000,
}


class SlowStore:
    """A store whose appends wait while the test holds them (a slow disk), then fail if ``fail_next``.

    The server runs in another thread: ``held`` is a ``threading.Event`` (set: appends wait).
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.held = threading.Event()
        self.fail_next = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        while self.held.is_set():
            await asyncio.sleep(0.005)
        if self.fail_next:
            self.fail_next = False
            raise StoreError("disk on fire")
        await self.inner.append(table_id, records, epoch=epoch)


@dataclass
class Room:
    """A live server on a ``SlowStore``, a table of ``WIDE`` and two connected workers."""

    store: SlowStore
    http: httpx.AsyncClient
    table_id: str
    ann: WorkerClient
    bob: WorkerClient


@contextlib.asynccontextmanager
async def two_workers(**settings: Any) -> AsyncIterator[Room]:
    store = SlowStore(open_store("memory://"))
    with live_server(test_settings(**settings), store=store) as server:  # type: ignore[arg-type]  # duck-typed store
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, WIDE)
            ann = WorkerClient(server.base_url, await worker_token(http, table["id"], "ann"))
            bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
            await ann.connect()
            await bob.connect()
            yield Room(store, http, table["id"], ann, bob)
            await ann.disconnect()
            await bob.disconnect()


async def candidates(http: httpx.AsyncClient, table_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await http.get(f"/api/tables/{table_id}/candidates")).json()
    return data


def rows_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["row_id"]: row["values"] for row in view["rows"]}


def replica(worker: WorkerClient) -> dict[str, dict[str, Any]]:
    return {row_id: dict(values) for row_id, values in worker.rows().items()}


async def test_the_others_see_an_operation_before_its_sender_is_acknowledged_when_the_store_is_slow() -> None:
    async with two_workers() as room:
        store, ann, bob = room.store, room.ann, room.bob
        row_id = next(iter(ann.rows()))
        store.held.set()
        fill = asyncio.create_task(ann.fill(row_id, "a", "early", new_row_id="early"))
        await bob.wait_for(lambda: "early" in bob.rows(), timeout=5)
        assert not fill.done()  # the append is still held: ann has no ack yet
        await asyncio.sleep(0.2)
        assert not fill.done()
        store.held.clear()
        ack = await fill
        assert ack["ok"]
        assert bob.forwarded[-1]["seq"] == ack["seq"]


async def test_with_early_forwarding_off_the_others_see_an_operation_only_after_it_is_durable() -> None:
    async with two_workers(early_forward=False) as room:
        store, ann, bob = room.store, room.ann, room.bob
        row_id = next(iter(ann.rows()))
        store.held.set()
        fill = asyncio.create_task(ann.fill(row_id, "a", "late", new_row_id="late"))
        await asyncio.sleep(0.5)  # the append is held
        assert "late" not in bob.rows()
        store.held.clear()
        assert (await fill)["ok"]
        await bob.wait_for(lambda: "late" in bob.rows(), timeout=5)


async def test_a_failed_append_resets_the_clients_that_were_forwarded_the_lost_batch() -> None:
    async with two_workers() as room:
        store, http, ann, bob = room.store, room.http, room.ann, room.bob
        before = await candidates(http, room.table_id)
        first_run = bob.incarnation
        row_id = next(iter(ann.rows()))
        store.fail_next = True
        store.held.set()
        fill = asyncio.create_task(ann.fill(row_id, "a", "Atlantis", new_row_id="lost"))
        await bob.wait_for(lambda: "lost" in bob.rows(), timeout=5)  # forwarded before the append
        store.held.clear()
        refused = await fill
        assert refused["error"]["code"] == "store_unavailable"
        await bob.wait_for(lambda: len(bob.snapshots) == 2, timeout=5)
        await ann.wait_for(lambda: len(ann.snapshots) == 2, timeout=5)
        assert await candidates(http, room.table_id) == before
        for worker in (ann, bob):
            assert "lost" not in worker.rows()
            assert replica(worker) == rows_of(before)
            assert worker.last_seq == before["seq"]
            assert worker.incarnation not in (None, first_run)  # the lost batch ended the run
        # The seq the lost batch had is given again, to another operation: both see it right.
        retried = await ann.fill(row_id, "b", "Lemuria", new_row_id="kept")
        assert retried["seq"] == before["seq"] + 1
        await bob.wait_for_seq(retried["seq"])
        after = await candidates(http, room.table_id)
        assert replica(bob) == replica(ann) == rows_of(after)


async def test_an_operation_queued_while_an_append_is_held_is_forwarded_at_once_and_acked_after_it() -> None:
    async with two_workers() as room:
        store, ann, bob = room.store, room.ann, room.bob
        first, second = list(ann.rows())[:2]
        store.held.set()
        ann_fill = asyncio.create_task(ann.fill(first, "a", "ann's", new_row_id="ann-row"))
        await bob.wait_for(lambda: "ann-row" in bob.rows(), timeout=5)
        # ann's append is held: bob's fill is forwarded anyway, without waiting for it.
        bob_fill = asyncio.create_task(bob.fill(second, "b", "bob's", new_row_id="bob-row"))
        await ann.wait_for(lambda: "bob-row" in ann.rows(), timeout=5)
        await asyncio.sleep(0.2)
        assert not ann_fill.done()  # neither is durable yet
        assert not bob_fill.done()
        store.held.clear()
        ann_ack, bob_ack = await ann_fill, await bob_fill
        assert ann_ack["ok"]
        assert bob_ack["ok"]
        assert bob_ack["seq"] == ann_ack["seq"] + 1
        # Each was forwarded once, to the other only.
        assert [op["seq"] for op in bob.forwarded if op["op"].get("new_row_id") == "ann-row"] == [
            ann_ack["seq"]
        ]
        assert [op["seq"] for op in ann.forwarded if op["op"].get("new_row_id") == "bob-row"] == [
            bob_ack["seq"]
        ]
        assert not [op for op in ann.forwarded if op["op"].get("new_row_id") == "ann-row"]
        view = await candidates(room.http, room.table_id)
        assert view["seq"] == bob_ack["seq"]
        assert replica(ann) == replica(bob) == rows_of(view)


async def test_a_failed_append_refuses_what_was_forwarded_behind_it_and_resets_every_client() -> None:
    async with two_workers() as room:
        store, http, ann, bob = room.store, room.http, room.ann, room.bob
        before = await candidates(http, room.table_id)
        first, second = list(ann.rows())[:2]
        store.fail_next = True
        store.held.set()
        ann_fill = asyncio.create_task(ann.fill(first, "a", "lost", new_row_id="lost-1"))
        await bob.wait_for(lambda: "lost-1" in bob.rows(), timeout=5)
        bob_fill = asyncio.create_task(bob.fill(second, "b", "lost too", new_row_id="lost-2"))
        await ann.wait_for(lambda: "lost-2" in ann.rows(), timeout=5)
        store.held.clear()
        for refused in (await ann_fill, await bob_fill):
            assert refused["error"]["code"] == "store_unavailable"
        await bob.wait_for(lambda: len(bob.snapshots) == 2, timeout=5)
        await ann.wait_for(lambda: len(ann.snapshots) == 2, timeout=5)
        assert await candidates(http, room.table_id) == before
        for worker in (ann, bob):
            assert replica(worker) == rows_of(before)
            assert worker.last_seq == before["seq"]
        retried = await bob.fill(second, "b", "kept", new_row_id="kept")
        assert retried["seq"] == before["seq"] + 1
        await ann.wait_for_seq(retried["seq"])
        assert replica(ann) == replica(bob) == rows_of(await candidates(http, room.table_id))


async def test_a_client_of_an_earlier_run_gets_a_replay_only_up_to_where_that_run_was_durable(
    tmp_path: Path,
) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, WIDE)
            ann_token = await worker_token(http, table["id"], "ann")
            ann = WorkerClient(server.base_url, ann_token)
            await ann.connect()
            for column in ("a", "b", "c"):
                assert (await ann.fill(next(iter(ann.rows())), column, f"first-{column}"))["ok"]
            first_run, first_end = ann.incarnation, ann.last_seq
            assert first_run
            await ann.disconnect()
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            bob = WorkerClient(server.base_url, await worker_token(http, table["id"], "bob"))
            await bob.connect()
            second_run = bob.incarnation
            assert second_run not in (None, first_run)
            for column in ("a", "b"):
                assert (await bob.fill(next(iter(bob.rows())), column, f"second-{column}"))["ok"]
            head = bob.last_seq
            assert head == first_end + 2
            # Up to where the first run was durable: a replay of what the second run added.
            kind, data = await first_answer(
                server.base_url, {"token": ann_token, "last_seq": first_end, "incarnation": first_run}
            )
            assert kind == "ops"
            assert [e["seq"] for e in data["ops"]] == [first_end + 1, head]
            assert data["incarnation"] == second_run
            # Beyond it: what the first run forwarded there may be lost (its seq now numbers
            # another op), so a snapshot, though the seq is one this run has.
            kind, data = await first_answer(
                server.base_url, {"token": ann_token, "last_seq": first_end + 1, "incarnation": first_run}
            )
            assert kind == "snapshot"
            assert data["seq"] == head
            assert data["incarnation"] == second_run
            # Out of order: last_seq within, but ops held past a gap beyond it (max_seq).
            kind, _ = await first_answer(
                server.base_url,
                {
                    "token": ann_token,
                    "last_seq": first_end,
                    "max_seq": first_end + 1,
                    "incarnation": first_run,
                },
            )
            assert kind == "snapshot"
            # This run's own clients get replays as before.
            kind, data = await first_answer(
                server.base_url, {"token": ann_token, "last_seq": first_end + 1, "incarnation": second_run}
            )
            assert kind == "ops"
            assert [e["seq"] for e in data["ops"]] == [head]
            await bob.disconnect()
    with live_server(settings) as server:
        # A third run started at a head past the first run's end: the first run's client is still
        # judged by where its own run ended, the second's by where the second ended.
        kind, _ = await first_answer(
            server.base_url, {"token": ann_token, "last_seq": first_end + 1, "incarnation": first_run}
        )
        assert kind == "snapshot"
        kind, data = await first_answer(
            server.base_url, {"token": ann_token, "last_seq": first_end + 1, "incarnation": second_run}
        )
        assert kind == "ops"
        assert [e["seq"] for e in data["ops"]] == [head]
        # A run the store never heard of: nothing it showed can be trusted.
        kind, _ = await first_answer(
            server.base_url, {"token": ann_token, "last_seq": 1, "incarnation": "0123456789abcdef"}
        )
        assert kind == "snapshot"


async def test_a_sigkill_between_the_forward_and_the_fsync_loses_nothing_acknowledged_and_clients_converge(
    tmp_path: Path,
) -> None:
    process = ServerProcess(tmp_path / "data").start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
            table = await create_table(http, WIDE)
            ann = WorkerClient(process.base_url, await worker_token(http, table["id"], "ann"))
            bob = WorkerClient(process.base_url, await worker_token(http, table["id"], "bob"))
        await ann.connect()
        await bob.connect()
        first, second = list(ann.rows())[:2]
        acked = await ann.fill(first, "a", "durable", new_row_id="durable")
        assert acked["ok"]
        await bob.wait_for_seq(acked["seq"])
        # Another connection holds SQLite's write lock: the server's next append waits for it
        # (its busy timeout), after the early forward and before the commit and its fsync.
        blocker = sqlite3.connect(tmp_path / "data" / DEFAULT_SQLITE_NAME, isolation_level=None, timeout=1)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            fill = asyncio.create_task(ann.fill(second, "a", "never-durable", new_row_id="lost", timeout=3))
            await bob.wait_for(lambda: "lost" in bob.rows(), timeout=5)
            assert not fill.done()
            process.kill()
        finally:
            blocker.rollback()
            blocker.close()
        outcome = await asyncio.gather(fill, return_exceptions=True)
        assert not (isinstance(outcome[0], dict) and outcome[0].get("ok"))  # never acknowledged
        assert bob.max_seq == acked["seq"] + 1  # bob holds an operation the log never got
        for worker in (ann, bob):
            await worker.abandon()

        process.start()
        ann.base_url = bob.base_url = process.base_url
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
            log = (await http.get(f"/api/tables/{table['id']}/log")).json()
            stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
            assert stored.get(acked["seq"]) == acked["op"]
            assert acked["seq"] + 1 not in stored
            # The new run numbers other operations with the lost one's seq before bob is back.
            await ann.reconnect()
            reused = await ann.fill("durable", "b", "reused", new_row_id="reused")
            assert reused["seq"] == acked["seq"] + 1  # the lost operation's seq, another operation's now
            assert (await ann.fill("reused", "c", "more"))["ok"]
            await bob.reconnect()
            server_view = await candidates(http, table["id"])
        for worker in (ann, bob):
            await worker.wait_for_seq(server_view["seq"])
            assert "lost" not in worker.rows()
            assert replica(worker) == rows_of(server_view)
        for worker in (ann, bob):
            await worker.disconnect()
    finally:
        process.stop()
