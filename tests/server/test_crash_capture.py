"""Durability with state captures: SIGKILL while captures are being taken loses nothing, and the
restarted table (capture plus log tail) is the one a full replay of the log gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.test_crash import kill_mid_burst
from tests.support.live_server import ServerProcess


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
