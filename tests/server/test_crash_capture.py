"""Durability with state captures: SIGKILL while captures are being taken loses nothing, and the
restarted table (capture plus log tail) is the one a full replay of the log gives."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.test_crash import COLUMNS, WIDE, kill_mid_burst
from tests.support.live_server import ServerProcess
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

# Makes every capture write fail from the moment it is created: the state a kill leaves when it
# lands after /close answered but before the background final capture was stored.
HOLD_CAPTURES = """
CREATE TRIGGER hold_insert BEFORE INSERT ON captures BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
CREATE TRIGGER hold_update BEFORE UPDATE ON captures BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
"""


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
        table, acked, _ = await kill_mid_burst(process)

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


def stored_capture_seq(database: Path, table_id: str) -> int | None:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT seq FROM captures WHERE table_id = ?", (table_id,)).fetchone()
    return None if row is None else int(row[0])


async def finished_view(process: ServerProcess, table_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=30) as http:
        record = (await http.get(f"/api/tables/{table_id}")).json()
        final = (await http.get(f"/api/tables/{table_id}/final")).json()
        log = (await http.get(f"/api/tables/{table_id}/log", params={"limit": 10_000})).json()
    return {
        "status": record["status"],
        "final": final,
        "candidates": await candidates(process, table_id),
        "log": {entry["seq"]: entry["op"] for entry in log["ops"]},
    }


@pytest.mark.slow
async def test_a_kill_after_close_answered_but_before_its_final_capture_is_stored_loses_nothing(
    tmp_path: Path,
) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=["--capture-every", "3"]).start()
    database = tmp_path / "data" / "crowdfill.sqlite3"
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=10) as http:
            table = await create_table(http, WIDE)
            token = await worker_token(http, table["id"], "w0")
        worker = WorkerClient(process.base_url, token)
        await worker.connect()
        rng = random.Random(11)
        acked: dict[int, dict[str, Any]] = {}

        async def fill(step: int) -> None:
            empty = [
                (rid, c) for rid, values in worker.rows().items() for c in COLUMNS if c not in dict(values)
            ]
            row_id, column = rng.choice(empty)
            ack = await worker.fill(row_id, column, f"v{step}", timeout=10)
            assert ack.get("ok"), ack
            acked[ack["seq"]] = ack["op"]

        for step in range(20):
            await fill(step)
        for _ in range(100):  # a periodic capture lands in the background
            if stored_capture_seq(database, table["id"]) is not None:
                break
            await asyncio.sleep(0.1)
        # Held from here on; read what is stored only now, since captures still in flight may land
        # until the triggers exist.
        with sqlite3.connect(database) as db:
            db.executescript(HOLD_CAPTURES)
        earlier = stored_capture_seq(database, table["id"])
        assert earlier is not None
        await asyncio.sleep(0.5)  # the 20 fills used the rate limit's burst
        await fill(20)  # acknowledged after the last capture that can land
        await worker.disconnect()

        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers, timeout=30) as http:
            closed = await http.post(f"/api/tables/{table['id']}/close")
            assert closed.status_code == 200, closed.text
        before = await finished_view(process, table["id"])
        process.kill()
        assert before["status"] == "closed"
        assert before["final"]["seq"] > earlier  # the restart has a tail to replay
        assert stored_capture_seq(database, table["id"]) == earlier  # the final capture never landed
        with sqlite3.connect(database) as db:
            db.executescript("DROP TRIGGER hold_insert; DROP TRIGGER hold_update;")

        process.start()
        after = await finished_view(process, table["id"])
        for seq, op in acked.items():
            assert after["log"].get(seq) == op, f"acknowledged op {seq} lost or changed"
        assert after == before
        process.stop()

        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM captures")
        process.start()
        assert await finished_view(process, table["id"]) == after  # what a full replay gives
    finally:
        process.stop()
