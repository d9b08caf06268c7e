"""Durability: a server process killed with SIGKILL mid-burst loses no acknowledged operation."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.support.live_server import ServerProcess
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

COLUMNS = ("a", "b", "c", "d")
WIDE: dict[str, Any] = {
    "name": "Wide",
    "schema": {"columns": [{"name": c} for c in COLUMNS]},
    "template": [{} for _ in range(40)],
    "budget_cents": 1000,
}


# Acknowledged ops before the kill: enough that every connection is busy with more in flight.
KILL_AFTER = 60


async def burst(
    worker: WorkerClient,
    acked: dict[int, dict[str, Any]],
    enough: asyncio.Event,
    stop: asyncio.Event,
    seed: int,
) -> None:
    """Fill random empty cells until the connection dies; record every acknowledged op.

    ``enough`` is set once all bursts together have ``KILL_AFTER`` acknowledged ops.
    """
    rng = random.Random(seed)
    step = 0
    while not stop.is_set():
        empty = [(rid, c) for rid, values in worker.rows().items() for c in COLUMNS if c not in dict(values)]
        if not empty:
            return
        row_id, column = rng.choice(empty)
        step += 1
        try:
            ack = await worker.fill(row_id, column, f"{worker.worker_id}-{step}", timeout=2)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            if worker.sio.connected and not stop.is_set():
                continue  # merely slow (a loaded machine): the op may still be acknowledged later
            return  # the server died with this operation in flight: it was never acknowledged
        if ack.get("ok"):
            acked[ack["seq"]] = ack["op"]
            if len(acked) >= KILL_AFTER:
                enough.set()


async def kill_mid_burst(
    process: ServerProcess,
) -> tuple[dict[str, Any], dict[int, dict[str, Any]], list[WorkerClient]]:
    """Four workers burst on a new WIDE table; SIGKILL once KILL_AFTER ops are acknowledged.

    Returns the table, the acknowledged operations by seq and the (abandoned) workers.
    """
    async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
        table = await create_table(http, WIDE)
        tokens = [await worker_token(http, table["id"], f"w{i}") for i in range(4)]
    workers = [WorkerClient(process.base_url, token) for token in tokens]
    for worker in workers:
        await worker.connect()
    acked: dict[int, dict[str, Any]] = {}
    enough = asyncio.Event()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(burst(w, acked, enough, stop, i)) for i, w in enumerate(workers)]
    # Kill as soon as enough ops are acknowledged, or when a burst ends early (the test then fails below).
    reached = asyncio.create_task(enough.wait())
    await asyncio.wait([reached, *tasks], timeout=60, return_when=asyncio.FIRST_COMPLETED)
    process.kill()  # mid-burst: operations are in flight on every connection
    stop.set()
    reached.cancel()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    for worker in workers:
        await worker.abandon()
    assert len(acked) >= KILL_AFTER
    return table, acked, workers


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_every_acknowledged_operation_survives_sigkill_and_clients_converge_after_restart(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    store_url = request.getfixturevalue("postgres").new_database() if backend == "postgresql" else None
    process = ServerProcess(tmp_path / "data", store_url=store_url).start()
    try:
        table, acked, workers = await kill_mid_burst(process)

        process.start()  # same data directory and port
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
            log = (await http.get(f"/api/tables/{table['id']}/log", params={"limit": 10_000})).json()
            stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
            for seq, op in acked.items():
                assert stored.get(seq) == op, f"acknowledged op {seq} lost or changed"
            assert sorted(stored) == list(range(1, len(stored) + 1))
            for worker in workers:
                await worker.reconnect()
            server_view = (await http.get(f"/api/tables/{table['id']}/candidates")).json()
        expected = {row["row_id"]: row["values"] for row in server_view["rows"]}
        for worker in workers:
            await worker.wait_for_seq(server_view["seq"])
            assert {rid: dict(values) for rid, values in worker.rows().items()} == expected
        # The restarted server keeps accepting work on the recovered table.
        row_id, values = next(iter(workers[0].rows().items()))
        missing = next(c for c in COLUMNS if c not in dict(values)) if len(values) < len(COLUMNS) else None
        if missing is not None:
            assert (await workers[0].fill(row_id, missing, "after-restart"))["ok"]
        for worker in workers:
            await worker.disconnect()
    finally:
        process.stop()
