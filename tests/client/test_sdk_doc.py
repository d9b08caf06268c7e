"""docs/sdk.md runs: its code blocks, in order, against a real server while two workers collect."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.live_server import LiveServer, live_server
from tests.support.worker_client import WorkerClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def run_blocks(code: list[str], namespace: dict[str, Any]) -> None:
    for number, block in enumerate(code, 1):
        exec(compile(block, f"docs/sdk.md block {number}", "exec"), namespace)  # noqa: S102  # our own doc


async def links_when_ready(http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """The table the doc launched and its workers' tokens, once it has made both links."""
    for _ in range(1000):
        for table in (await http.get("/api/tables")).json()["tables"]:
            if table["status"] == "live":
                links = (await http.get(f"/api/tables/{table['id']}/links")).json()["links"]
                if len(links) == 2:
                    return table["id"], {
                        link["worker_id"]: parse_qs(urlsplit(link["url"]).query)["token"][0] for link in links
                    }
        await asyncio.sleep(0.02)
    raise AssertionError("the doc never launched a table with two links")


async def crowd_collects(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=10) as http:
        table_id, tokens = await links_when_ready(http)
    ann, bob = WorkerClient(server.base_url, tokens["ann"]), WorkerClient(server.base_url, tokens["bob"])
    for worker in (ann, bob):
        await worker.connect()
    france = next(iter(ann.rows()))
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    await ann.wait_for(lambda: ann.complete is not None)
    for worker in (ann, bob):
        await worker.disconnect()
    del table_id


def test_the_doc_has_the_walk_through_blocks() -> None:
    code = "\n".join(blocks())
    for needed in ("create_table", "launch", "watch", "pd.DataFrame", "Dataset.from_pandas", "AsyncClient"):
        assert needed in code


async def test_every_code_block_of_the_sdk_doc_runs_against_a_real_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with live_server() as server:
        monkeypatch.setenv("CROWDFILL_SERVER", server.base_url)
        monkeypatch.setenv("CROWDFILL_REQUESTER_TOKEN", server.settings.requester_token)
        namespace: dict[str, Any] = {"__name__": "sdk_doc"}
        doc = asyncio.create_task(asyncio.to_thread(run_blocks, blocks(), namespace))
        await crowd_collects(server)
        await asyncio.wait_for(doc, 60)
        namespace["client"].close()
    frame = namespace["frame"]
    assert frame.to_dict("records") == [{"country": "France", "capital": "Paris"}]
    assert namespace["dataset"].num_rows == 1
    assert set(namespace["report"].settlement["payments"]) == {"ann", "bob"}
    assert namespace["lines"][0] == "row_id,country,capital"
    out = capsys.readouterr().out
    assert "complete" in out
    assert "table_not_draft" in out
    assert "404 table_not_found" in out
