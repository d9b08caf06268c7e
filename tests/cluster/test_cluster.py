"""Three ``crowdfill serve`` processes on one PostgreSQL and one Redis: one sequencer per table, failover.

Workers are spread over the processes and fill and vote at once; the process that owns the table
is killed with SIGKILL in the middle. Another process must take the table over, every
acknowledged operation must be in the log at its seq, every replica must equal the server's table
after a resync, and the killed owner's epoch must be fenced off in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import socketio

from crowdfill.store import LogRecord, PostgresStore, StaleEpoch
from tests.support.live_server import ServerProcess, cluster_processes
from tests.support.requester import create_table, worker_token
from tests.support.services import PostgresServer, RedisServer
from tests.support.worker_client import WorkerClient, first_answer

COLUMNS = ("a", "b", "c")
TABLE: dict[str, Any] = {
    "name": "Cluster",
    "schema": {"columns": [{"name": c} for c in COLUMNS]},
    "template": [{"a": "never"}, *({} for _ in range(60))],  # never complete during the test
    "budget_cents": 1000,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}
LEASE_TTL_S = 1.0
PROCESSES = 3
WORKERS = 6
KILL_AFTER = 40  # acknowledged ops before the kill
AFTER_KILL = 40  # and after it, once another process leads
TAKEOVER_BOUND_S = 5.0  # the bound for "another process serves the table"


def lease(url: str, table_id: str) -> tuple[str, int]:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT holder, epoch FROM leases WHERE table_id = %s", (table_id,)
        ).fetchone()
    assert row is not None, "the table has no lease"
    return str(row[0]), int(row[1])


def owner_of(processes: list[ServerProcess], holder: str) -> ServerProcess:
    """The process whose node id (``host-pid-random``) names the lease holder."""
    matching = [p for p in processes if p.process is not None and f"-{p.pid}-" in holder]
    assert len(matching) == 1, f"no single process holds {holder!r}"
    return matching[0]


@dataclass
class Cluster:
    """Server processes on one store and one Redis, all started, with a table made through the first
    one, its workers' tokens (w0, w1, ...) and the table's lease as it stood just after."""

    processes: list[ServerProcess]
    url: str  # the store's
    table: dict[str, Any]
    tokens: list[str]
    holder: str
    epoch: int


@contextlib.asynccontextmanager
async def cluster_with_a_table(
    tmp_path: Path,
    postgres: PostgresServer,
    redis: RedisServer,
    count: int,
    lease_ttl: float,
    workers: int,
) -> AsyncIterator[Cluster]:
    url = postgres.new_database()
    processes = cluster_processes(tmp_path, url, redis.url, count, lease_ttl)
    try:
        for process in processes:
            process.start()
        first = processes[0]
        async with httpx.AsyncClient(base_url=first.base_url, headers=first.headers, timeout=10) as http:
            table = await create_table(http, TABLE)
            tokens = [await worker_token(http, table["id"], f"w{i}") for i in range(workers)]
        holder, epoch = lease(url, table["id"])
        yield Cluster(processes, url, table, tokens, holder, epoch)
    finally:
        for process in processes:
            # One a test left stopped (SIGSTOP) would hold the SIGTERM until stop() gives up on it.
            if process.process is not None and process.process.poll() is None:
                process.process.send_signal(signal.SIGCONT)
            process.stop()


async def work(
    worker: WorkerClient, acked: dict[int, dict[str, Any]], stop: asyncio.Event, seed: int
) -> None:
    """Fill empty cells and upvote full rows until stopped; record every acknowledged op.

    A refusal or a timeout (the owner died with the op in flight) is not an acknowledgement: the
    worker moves on. A dropped connection (its process was killed) ends the loop: the test
    reconnects the worker elsewhere and starts it again.
    """
    rng = random.Random(seed)
    step = 0
    while not stop.is_set():
        rows = worker.rows()
        empty = [(rid, c) for rid, values in rows.items() for c in COLUMNS if c not in dict(values)]
        step += 1
        try:
            if empty and rng.random() < 0.8:
                row_id, column = rng.choice(empty)
                ack = await worker.fill(row_id, column, f"{worker.worker_id}-{step}", timeout=15)
            else:
                ack = await worker.upvote(rng.choice(list(rows)))
        except socketio.exceptions.TimeoutError:
            continue
        except socketio.exceptions.BadNamespaceError:
            return
        if ack.get("ok"):
            acked[ack["seq"]] = ack["op"]
        await asyncio.sleep(0.01)


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_killing_a_tables_owner_loses_no_acknowledged_operation_and_another_process_takes_over(
    tmp_path: Path, postgres: PostgresServer, redis: RedisServer
) -> None:
    async with cluster_with_a_table(tmp_path, postgres, redis, PROCESSES, LEASE_TTL_S, WORKERS) as run:
        processes, url, table, tokens = run.processes, run.url, run.table, run.tokens
        holder, epoch, first = run.holder, run.epoch, processes[0]
        tasks: list[asyncio.Task[None]] = []
        try:
            owner = owner_of(processes, holder)
            home = {i: processes[i % PROCESSES] for i in range(WORKERS)}
            home_workers = [f"w{i}" for i in range(WORKERS)]
            workers = [WorkerClient(home[i].base_url, token) for i, token in enumerate(tokens)]
            for worker in workers:
                await worker.connect()

            acked: dict[int, dict[str, Any]] = {}
            stop = asyncio.Event()
            tasks = [asyncio.create_task(work(w, acked, stop, i)) for i, w in enumerate(workers)]
            await until(lambda: len(acked) >= KILL_AFTER, 60, f"{KILL_AFTER} acknowledged ops")
            # Workers on every process were acknowledged: the other two forwarded to the owner.
            await until(
                lambda: {op["worker"] for op in acked.values()} == set(home_workers), 30, "every worker"
            )

            owner.kill()
            killed_at = time.monotonic()
            before_kill = len(acked)
            survivors = [p for p in processes if p is not owner]
            # The killed process's workers reconnect through a surviving one and resync from their last seq.
            for index, worker in enumerate(workers):
                if home[index] is owner:
                    tasks[index].cancel()  # its op in flight died with the process: never acknowledged
                    home[index] = survivors[index % len(survivors)]
                    worker.base_url = home[index].base_url
                    await worker.reconnect(timeout=20)
                    tasks[index] = asyncio.create_task(work(worker, acked, stop, 100 + index))
            await until(lambda: lease(url, table["id"])[0] != holder, 30, "another process to take the lease")
            took_over_s = time.monotonic() - killed_at
            new_holder, new_epoch = lease(url, table["id"])
            assert new_epoch > epoch
            assert owner_of(survivors, new_holder) in survivors
            assert took_over_s < TAKEOVER_BOUND_S, f"the takeover took {took_over_s:.1f} s"
            await until(lambda: len(acked) >= before_kill + AFTER_KILL, 60, "acknowledged ops after the kill")
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 30)

            async with httpx.AsyncClient(
                base_url=survivors[0].base_url, headers=first.headers, timeout=10
            ) as http:
                log = (await http.get(f"/api/tables/{table['id']}/log", params={"limit": 10_000})).json()
                server_view = (await http.get(f"/api/tables/{table['id']}/candidates")).json()
            stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
            lost = [seq for seq, op in acked.items() if stored.get(seq) != op]
            assert lost == [], f"acknowledged ops lost or changed: {lost}"
            assert sorted(stored) == list(range(1, len(stored) + 1))
            expected = {row["row_id"]: row["values"] for row in server_view["rows"]}
            for worker in workers:
                await worker.wait_for_seq(server_view["seq"], timeout=20)
                assert {rid: dict(values) for rid, values in worker.rows().items()} == expected

            # The killed owner's epoch is fenced off: were it only paused, it could not append now.
            store = PostgresStore(url)
            await store.open()
            try:
                stale = LogRecord(len(stored) + 1, stored[1], time.time())
                with pytest.raises(StaleEpoch):
                    await store.append(table["id"], [stale], epoch=epoch)
                assert await store.last_seq(table["id"]) == len(stored)
            finally:
                await store.close()

            # The old owner restarted (a new node on the same port) follows: it forwards, never leads.
            owner.start()
            revived = WorkerClient(owner.base_url, tokens[0])
            await revived.connect()
            row_id = next(rid for rid, values in revived.rows().items() if len(values) < len(COLUMNS))
            column = next(c for c in COLUMNS if c not in dict(revived.rows()[row_id]))
            ack = await revived.fill(row_id, column, "after-revival", timeout=15)
            assert ack["ok"], ack
            assert ack["seq"] == len(stored) + 1
            assert lease(url, table["id"]) == (new_holder, new_epoch)
            await revived.disconnect()
            for worker in workers:
                await worker.disconnect()
        finally:
            for task in tasks:
                task.cancel()


@pytest.mark.slow
async def test_a_client_holding_past_a_followers_head_gets_a_snapshot_there_though_of_the_same_run(
    tmp_path: Path, postgres: PostgresServer, redis: RedisServer
) -> None:
    # As the killed owner's client that reconnects to a follower before the takeover: it holds an
    # op forwarded early that the log never got, one past the follower's head, and the follower
    # still names the dead owner's run. A replay from the head (nothing) would leave that op in
    # the replica, and the client would skip the next leader's op of the same seq as already seen.
    async with cluster_with_a_table(tmp_path, postgres, redis, 2, 5, workers=2) as run:
        (leader, follower), tokens = run.processes, run.tokens
        assert owner_of([leader, follower], run.holder) is leader
        ann, watcher = WorkerClient(leader.base_url, tokens[0]), WorkerClient(follower.base_url, tokens[1])
        for worker in (ann, watcher):
            await worker.connect()
        ack = await ann.fill(next(rid for rid, values in ann.rows().items() if not values), "a", "durable")
        assert ack["ok"], ack
        await watcher.wait_for_seq(ack["seq"])
        assert watcher.incarnation == ann.incarnation
        held = {"token": tokens[0], "last_seq": ack["seq"], "incarnation": ann.incarnation}

        kind, data = await first_answer(follower.base_url, {**held, "max_seq": ack["seq"]})
        assert kind == "ops"
        assert data["ops"] == []
        kind, data = await first_answer(follower.base_url, {**held, "max_seq": ack["seq"] + 1})
        assert kind == "snapshot"
        assert data["seq"] == ack["seq"]
        for worker in (ann, watcher):
            await worker.disconnect()


@pytest.mark.slow
async def test_a_follower_sees_the_owners_workers_online_and_its_block_and_close_take_effect_there(
    tmp_path: Path, postgres: PostgresServer, redis: RedisServer
) -> None:
    async with cluster_with_a_table(tmp_path, postgres, redis, 2, 5, workers=2) as run:
        (leader, follower), table, tokens = run.processes, run.table, run.tokens
        assert owner_of([leader, follower], run.holder) is leader
        blocked, staying = WorkerClient(leader.base_url, tokens[0]), WorkerClient(leader.base_url, tokens[1])
        watcher = WorkerClient(follower.base_url, tokens[1])
        for worker in (blocked, staying, watcher):
            await worker.connect()

        async with httpx.AsyncClient(
            base_url=follower.base_url, headers=follower.headers, timeout=10
        ) as http:
            # The follower counts the owner's sessions too (w0 is connected to the owner only).
            async def online() -> set[str]:
                response = await http.get(f"/api/tables/{table['id']}/workers")
                return {w["worker_id"] for w in response.json()["workers"] if w["online"]}

            deadline = time.monotonic() + 15
            while await online() != {"w0", "w1"} and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert await online() == {"w0", "w1"}

            response = await http.post(f"/api/tables/{table['id']}/workers/w0/block")
            assert response.status_code == 200, response.text
            await blocked.wait_for(lambda: blocked.kicked is not None, timeout=10)
            assert blocked.kicked is not None
            assert blocked.kicked["code"] == "worker_blocked"

            closed = await http.post(f"/api/tables/{table['id']}/close")
            assert closed.status_code == 200, closed.text
            assert closed.json()["status"] == "closed"
        for worker in (staying, watcher):
            await worker.wait_for(lambda w=worker: w.complete is not None, timeout=10)
            assert worker.status == "closed"
        row_id = next(iter(staying.rows()))
        ack = await staying.upvote(row_id)
        assert ack["error"]["code"] == "table_closed"
        for worker in (staying, watcher):
            await worker.disconnect()


@pytest.mark.slow
async def test_an_owner_paused_past_its_lease_wakes_up_fenced_off_and_the_log_stays_one_sequence(
    tmp_path: Path, postgres: PostgresServer, redis: RedisServer
) -> None:
    async with cluster_with_a_table(tmp_path, postgres, redis, 2, LEASE_TTL_S, workers=2) as run:
        (paused, other), url, table, tokens = run.processes, run.url, run.table, run.tokens
        holder, epoch = run.holder, run.epoch
        assert owner_of([paused, other], holder) is paused
        stuck, elsewhere = WorkerClient(paused.base_url, tokens[0]), WorkerClient(other.base_url, tokens[1])
        await stuck.connect()
        await elsewhere.connect()
        rows = list(stuck.rows())
        assert (await stuck.fill(rows[0], "b", "before"))["ok"]

        assert paused.process is not None
        # A long GC pause, a frozen VM, a partition (should the test fail before the SIGCONT,
        # cluster_with_a_table continues it before stopping it).
        paused.process.send_signal(signal.SIGSTOP)
        # Sent to the paused owner: it sits in the kernel's buffer until the owner wakes up.
        in_flight = asyncio.create_task(stuck.fill(rows[1], "b", "while-paused", timeout=30))
        await until(lambda: lease(url, table["id"])[0] != holder, 30, "the other process to take the lease")
        ack = await elsewhere.fill(rows[2], "b", "after-takeover", timeout=15)
        assert ack["ok"], ack
        paused.process.send_signal(signal.SIGCONT)
        woke = await in_flight

        # Whatever the woken owner did with it, it did not append at its old epoch on its own.
        assert lease(url, table["id"])[1] > epoch
        async with httpx.AsyncClient(base_url=other.base_url, headers=other.headers, timeout=10) as http:
            log = (await http.get(f"/api/tables/{table['id']}/log", params={"limit": 10_000})).json()
        seqs = [entry["seq"] for entry in log["ops"]]
        assert seqs == list(range(1, len(seqs) + 1))
        stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
        assert stored[ack["seq"]] == ack["op"]
        if woke.get("ok"):  # forwarded to the new owner once the old one knew it lost the lease
            assert stored[woke["seq"]] == woke["op"]
        else:
            assert woke["error"]["code"] == "store_unavailable"
            assert all(op.get("value") != "while-paused" for op in stored.values())
        await stuck.disconnect()
        await elsewhere.disconnect()
