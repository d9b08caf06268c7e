"""Durability with state captures: SIGKILL while captures are being taken loses nothing, and the
restarted table (capture plus log tail) is the one a full replay of the log gives."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.test_crash import KILL_AFTER, WIDE, burst
from tests.support.live_server import ServerProcess
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient


async def candidates(process: ServerProcess, table_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=30) as http:
        response = await http.get(f"/api/tables/{table_id}/candidates")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.mark.slow
async def test_a_kill_while_captures_are_written_loses_no_acked_op_and_restores_the_replayed_table(
    tmp_path: Path,
) -> None:
    # A capture every 3 operations: the kill lands while a child is pickling or the store is
    # writing one, or between two of them.
    process = ServerProcess(tmp_path / "data", extra_args=["--capture-every", "3"]).start()
    try:
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
        reached = asyncio.create_task(enough.wait())
        await asyncio.wait([reached, *tasks], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        process.kill()
        stop.set()
        reached.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        for worker in workers:
            await worker.abandon()
        assert len(acked) >= KILL_AFTER

        database = tmp_path / "data" / "crowdfill.sqlite3"
        with sqlite3.connect(database) as db:
            captured = db.execute("SELECT seq FROM captures WHERE table_id = ?", (table["id"],)).fetchone()
        assert captured is not None  # some capture was stored before the kill

        process.start()
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
            log = (await http.get(f"/api/tables/{table['id']}/log", params={"limit": 10_000})).json()
        stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
        for seq, op in acked.items():
            assert stored.get(seq) == op, f"acknowledged op {seq} lost or changed"
        restored = await candidates(process, table["id"])
        process.stop()

        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM captures")
        process.start()
        replayed = await candidates(process, table["id"])
        assert restored == replayed
    finally:
        process.stop()
