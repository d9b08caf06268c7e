"""Idle live tables are unloaded and reload on first use, by REST or socket, to the same state."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdfill.server.idle import IdleUnloader
from crowdfill.server.presence import Presence
from crowdfill.server.settings import Settings
from crowdfill.server.tables import Tables
from crowdfill.store import open_store
from crowdfill.wire.definition import DefinitionModel
from tests.server.owner_support import QuietListener
from tests.server.test_finished_tables import OPEN_ENDED, collect, without_urls
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient

READS = ("", "/candidates", "/final", "/matching", "/compensation", "/workers")


async def state(http: httpx.AsyncClient, table_id: str) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for path in READS:
        response = await http.get(f"/api/tables/{table_id}{path}")
        assert response.status_code == 200, response.text
        answers[path] = response.json()
    answers[""] = without_urls(answers[""])
    # Which of several equally large matchings the central client holds is not part of the
    # state: a rebuilt one may pair template rows with other groups. Its size is.
    matching = answers["/matching"]
    answers["/matching"] = {
        "seq": matching["seq"],
        "satisfied": matching["satisfied"],
        "matched": sum(1 for entry in matching["template"] if entry["row_id"] is not None),
    }
    return answers


async def until_unloaded(server: LiveServer, table_id: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while server.app.tables.loaded(table_id) is not None:
        assert time.monotonic() < deadline, "the idle table was never unloaded"
        await asyncio.sleep(0.05)


def quick_idle(tmp_path: Path) -> Settings:
    return test_settings(store_url=None, data_dir=tmp_path, idle_unload_seconds=0.3)


async def test_an_idle_table_unloads_and_reloads_on_a_read_with_identical_state(tmp_path: Path) -> None:
    with live_server(quick_idle(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=3)
            before = await state(http, table_id)
            await until_unloaded(server, table_id)
            listed = (await http.get("/api/tables")).json()["tables"]
            assert server.app.tables.loaded(table_id) is None  # listing it did not load it
            assert [without_urls(t) for t in listed if t["id"] == table_id] == [before[""]]
            assert await state(http, table_id) == before
            assert server.app.tables.loaded(table_id) is not None


async def test_an_idle_table_reloads_when_a_worker_joins_and_goes_on_from_its_last_seq(
    tmp_path: Path,
) -> None:
    with live_server(quick_idle(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=2)
            before = await state(http, table_id)
            await until_unloaded(server, table_id)
            cy = WorkerClient(server.base_url, await worker_token(http, table_id, "cy"))
            await cy.connect()
            assert cy.last_seq == before[""]["seq"]
            expected = {row["row_id"]: row["values"] for row in before["/candidates"]["rows"]}
            assert {row_id: dict(values) for row_id, values in cy.rows().items()} == expected
            empty = next(row_id for row_id, values in cy.rows().items() if not values)
            ack = await cy.fill(empty, "country", "a new country")
            assert ack["ok"], ack
            assert ack["seq"] == before[""]["seq"] + 1
            await cy.disconnect()
            await until_unloaded(server, table_id)
            listed = (await http.get(f"/api/tables/{table_id}")).json()
            assert listed["seq"] == ack["seq"]  # the summary of the first unload is not shown again


async def test_a_table_with_a_connected_worker_is_not_unloaded(tmp_path: Path) -> None:
    with live_server(quick_idle(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            dee = WorkerClient(server.base_url, await worker_token(http, table_id, "dee"))
            await dee.connect()
            await asyncio.sleep(1.5)  # five idle periods
            assert server.app.tables.loaded(table_id) is not None
            await dee.disconnect()
            await until_unloaded(server, table_id)


async def test_a_table_unloaded_while_idle_is_not_loaded_at_the_next_startup(tmp_path: Path) -> None:
    with live_server(quick_idle(tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=2)
            before = await state(http, table_id)
            await until_unloaded(server, table_id)
    with live_server(test_settings(store_url=None, data_dir=tmp_path)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            assert server.app.tables.loaded(table_id) is None
            assert await state(http, table_id) == before


def test_a_negative_idle_time_is_refused() -> None:
    with pytest.raises(ValueError, match="idle_unload_seconds"):
        test_settings(idle_unload_seconds=-1)


async def test_a_table_just_launched_counts_as_used_so_a_sweep_leaves_it_loaded() -> None:
    # The demo launches its table without any request asking for it afterwards (crowdfill.server.demo).
    store = open_store("memory://")
    await store.open()
    tables = Tables(store, test_settings(), QuietListener())
    record = await tables.create(DefinitionModel.model_validate(OPEN_ENDED))
    await tables.launch(record.table_id)

    unloader = IdleUnloader(tables, Presence(), idle_seconds=600)
    assert await unloader.sweep() == []
    assert tables.loaded(record.table_id) is not None
    await tables.shutdown()
