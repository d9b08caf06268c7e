"""``crowdfill serve --demo`` as a user runs it: a separate process, SQLite in the data directory."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.live_server import ServerProcess
from tests.support.worker_client import WorkerClient


def printed(process: ServerProcess, label: str) -> list[str]:
    return re.findall(rf"{label}:\s+(\S+)", process.log_path.read_text())


@pytest.mark.slow
async def test_serve_demo_prints_working_urls_and_reuses_the_demo_table_after_a_restart(
    tmp_path: Path,
) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=["--demo"]).start()
    try:
        # The demo table is created right after startup; its URLs are printed then.
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            for _ in range(100):
                if printed(process, "monitor"):
                    break
                await http.get("/api/tables")
            [link] = printed(process, "worker link")
            [table_id] = printed(process, "demo table")
            assert printed(process, "API docs") == [f"{process.base_url}/docs"]
            assert printed(process, "monitor") == [f"{process.base_url}/tables/{table_id}/monitor"]
            assert (await http.get(f"/api/tables/{table_id}")).json()["status"] == "live"
        assert (tmp_path / "data" / "crowdfill.sqlite3").exists()
        banner = process.log_path.read_text().split("CrowdFill is running at", 1)[1].splitlines()
        assert "command line:" in banner[-1]  # the banner ends the output, demo lines included
        worker = WorkerClient(process.base_url, link.split("token=", 1)[1])
        await worker.connect()
        assert worker.snapshots[0]["table"]["name"] == "SoccerPlayer (demo)"
        assert len(worker.rows()) == 3  # the central client inserted the three template rows
        await worker.disconnect()
        process.stop()
        process.start()
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            for _ in range(100):
                if len(printed(process, "monitor")) == 2:
                    break
                await http.get("/api/tables")
            assert printed(process, "demo table") == [table_id, table_id]
            assert len((await http.get("/api/tables")).json()["tables"]) == 1
            # The same worker link both times: the demo's worker keeps its history across restarts.
            assert printed(process, "worker link") == [link, link]
    finally:
        process.stop()


@pytest.mark.slow
async def test_serve_demo_dadc_launches_the_sentiment_table_with_its_model_beside_the_soccer_demo(
    tmp_path: Path,
) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=["--demo", "dadc"]).start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            for _ in range(100):
                if printed(process, "DADC monitor"):
                    break
                await http.get("/api/tables")
            [soccer] = printed(process, "demo table")
            [dadc] = printed(process, "DADC table")
            assert soccer != dadc
            assert (await http.get(f"/api/tables/{dadc}")).json()["status"] == "live"
        [writer_link] = printed(process, "writer link")
        writer = WorkerClient(process.base_url, writer_link.split("token=", 1)[1])
        await writer.connect()
        assert writer.snapshots[0]["table"]["name"] == "Sentiment DADC (demo)"
        assert writer.table is not None
        (positive, *_) = [r for r, values in writer.rows().items() if dict(values) == {"label": "positive"}]
        ack = await writer.fill(positive, "text", "Dreadful, awful, horrible, I hated it")
        assert ack["ok"]
        completed = writer.table.row(ack["op"]["new_row_id"]).values

        def predicted() -> bool:
            assert writer.table is not None
            return writer.table.annotation(completed, "prediction", "label") is not None

        # The model's verdict arrives as an operation like any other, from worker "model".
        await writer.wait_for(predicted)
        verdict = writer.table.annotation(completed, "prediction", "label")
        assert verdict is not None
        assert (verdict.worker, verdict.value) == ("model", "negative")
        await writer.disconnect()
    finally:
        process.stop()
