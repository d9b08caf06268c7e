"""A model named in the table definition over REST: checked, attached at launch, resumed after a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdfill.model import Annotate, Fill
from crowdfill.server.assistants import AssistantRunner
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import LIVE, TableOwner
from crowdfill.store import open_store
from crowdfill.store.port import Store
from tests.server.owner_support import QuietListener, launch_owner, logged_operations
from tests.server.test_assistants import DADC, template_row
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.model_server import ModelServer
from tests.support.requester import create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient

WITH_VADER: dict[str, Any] = {
    **DADC,
    "assistant": {"model": "vader", "predict": "label"},
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}


async def logged_annotations(store: Store, table_id: str, count: int) -> list[Annotate]:
    for _ in range(500):
        found = [op for _, op in await logged_operations(store, table_id) if isinstance(op, Annotate)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} annotation(s) in the log")


@pytest.mark.parametrize(
    ("assistant", "problem"),
    [
        ({"model": "no-such-model", "predict": "label"}, "no assistant named 'no-such-model'"),
        ({"model": "os:system", "predict": "label"}, "attached by the server operator"),
        ({"model": "vader", "predict": "mood"}, "'mood', which is not a column"),
        ({"model": "vader"}, "set predict (a column) or suggest: true"),
        ({"model": "vader", "predict": "label", "options": {"colour": "red"}}, "does not take these options"),
        ({"model": "http", "predict": "label", "options": {"url": "ftp://x"}}, "url must start with http://"),
    ],
)
async def test_a_model_that_cannot_be_attached_is_refused_naming_the_problem(
    http: httpx.AsyncClient, assistant: dict[str, Any], problem: str
) -> None:
    response = await http.post("/api/tables", json={**DADC, "assistant": assistant})

    assert response.status_code == 422
    assert error_code(response) == "invalid_assistant"
    assert problem in response.json()["error"]["message"]


async def test_a_timeout_out_of_range_is_refused_by_the_wire_model(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/tables", json={**DADC, "assistant": {"model": "vader", "predict": "label", "timeout": 0}}
    )
    assert response.status_code == 422
    assert "timeout" in response.text


async def test_a_draft_gets_its_model_by_patch_and_loses_it_by_patching_null(http: httpx.AsyncClient) -> None:
    draft = await create_table(http, DADC, launch=False)
    url = f"/api/tables/{draft['id']}"
    bad = await http.patch(url, json={"assistant": {"model": "vader", "predict": "nope"}})
    assert error_code(bad) == "invalid_assistant"
    added = await http.patch(url, json={"assistant": {"model": "vader", "predict": "label"}})
    assert added.json()["definition"]["assistant"] == {
        "model": "vader",
        "options": {},
        "predict": "label",
        "suggest": False,
        "timeout": 2.0,
    }
    removed = await http.patch(url, json={"assistant": None})
    assert "assistant" not in removed.json()["definition"]


async def fill_text(
    server: LiveServer, http: httpx.AsyncClient, table_id: str, label: str, text: str
) -> None:
    worker = WorkerClient(server.base_url, await worker_token(http, table_id, "ann"))
    await worker.connect()
    try:
        (row,) = [r for r, values in worker.rows().items() if dict(values) == {"label": label}]
        assert (await worker.fill(row, "text", text))["ok"]
    finally:
        await worker.disconnect()


async def test_a_model_named_over_rest_predicts_and_is_attached_again_after_a_restart(tmp_path: Path) -> None:
    settings = test_settings(store_url=None, data_dir=tmp_path)
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = (await create_table(http, WITH_VADER))["id"]
            await fill_text(server, http, table, "positive", "I hated it, awful and boring")
            (first,) = await logged_annotations(server.app.store, table, 1)
            status = server.app.assistants.status(table)
            assert status is not None
            assert status["name"] == "vader"
    assert (first.column, first.value) == ("label", "negative")
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            await fill_text(server, http, table, "negative", "What a wonderful, lovely film")
            found = await logged_annotations(server.app.store, table, 2)
    assert [(a.value, dict(a.values)["text"]) for a in found] == [
        ("negative", "I hated it, awful and boring"),
        ("positive", "What a wonderful, lovely film"),
    ]


async def test_resuming_asks_the_model_only_for_rows_the_log_has_no_answer_for(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "t.sqlite3"))
    await store.open()
    runner = AssistantRunner(QuietListener())
    owner = await launch_owner(store, WITH_VADER, table_id="t-resume")
    owner._listener = runner  # the runner wraps the listener, as the app composes it
    await owner.submit(
        Fill("ann", template_row(owner, "positive"), "r1", "text", "Awful, boring", frozenset())
    )
    await logged_annotations(store, owner.table_id, 1)
    owner._listener = QuietListener()  # the server "stops" before the model sees the next row
    await owner.submit(
        Fill("ann", template_row(owner, "negative"), "r2", "text", "Lovely, great", frozenset())
    )
    await runner.stop()
    await owner.stop()

    again = TableOwner(
        owner.table_id, spec_from_json(WITH_VADER), LIVE, store, test_settings(), QuietListener()
    )
    await again.load()
    resumed = AssistantRunner(QuietListener())
    assert resumed.resume([again]) == 1
    found = await logged_annotations(store, owner.table_id, 2)
    await asyncio.sleep(0.2)  # time for a duplicate to show up, were there one
    logged = [op for _, op in await logged_operations(store, owner.table_id) if isinstance(op, Annotate)]
    assert [a.row_id for a in found] == ["r1", "r2"] == [a.row_id for a in logged]
    assert resumed.resume([again]) == 0  # both rows are answered in the log now
    await resumed.stop()
    await again.stop()
    await store.close()


async def status_when(
    server: LiveServer, table: str, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    for _ in range(500):
        status = server.app.assistants.status(table)
        if status is not None and ready(status):
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"the model's status never got there: {server.app.assistants.status(table)}")


async def test_an_http_model_named_over_rest_answers_then_goes_down_and_slow_and_the_table_keeps_working(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    model = ModelServer()
    model.start()
    try:
        assistant = {
            "model": "http",
            "options": {"url": model.url, "timeout": 0.3, "retries": 0},
            "predict": "label",
            # Well above the adapter's 0.3 s, so that the adapter's own timeout is what a slow model
            # meets even when the loop stalls (at 1 s a stall of 0.7 s let the runner's fire first).
            "timeout": 5,
        }
        three = {
            **WITH_VADER,
            "template": [{"label": "positive"}, {"label": "negative"}, {"label": "positive"}],
        }
        table = (await create_table(http, {**three, "assistant": assistant}))["id"]
        worker = WorkerClient(server.base_url, await worker_token(http, table, "ann"))
        await worker.connect()
        try:
            rows = [r for r, values in worker.rows().items() if dict(values).get("label") == "positive"]
            assert (await worker.fill(rows[0], "text", "good words here"))["ok"]
            await status_when(server, table, lambda s: s["answers"] == 1)
            model.delay = 1.0  # slower than the adapter's timeout
            assert (await worker.fill(rows[1], "text", "more words"))["ok"]
            await status_when(server, table, lambda s: s["failures"] == 1)
            model.stop()  # down: the connection is refused
            (negative,) = [r for r, v in worker.rows().items() if dict(v) == {"label": "negative"}]
            assert (await worker.fill(negative, "text", "still collecting"))["ok"]
            status = await status_when(server, table, lambda s: s["failures"] == 2)
        finally:
            await worker.disconnect()
    finally:
        model.stop()
    assert (status["name"], status["calls"], status["answers"]) == ("http", 3, 1)
    assert "unavailable" in status["last_error"] or "connect" in status["last_error"].lower()
    texts = sorted(
        str(r["values"].get("text"))
        for r in (await http.get(f"/api/tables/{table}/candidates")).json()["rows"]
    )
    assert texts == ["good words here", "more words", "still collecting"]
