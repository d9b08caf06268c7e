"""A clean stop captures each live table, so the next start replays no log tail."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx

from crowdfill.store import MemoryStore, SQLiteStore
from tests.server.test_finished_tables import OPEN_ENDED, collect
from tests.server.test_idle_tables import state
from tests.server.test_recovery_capture import HeldFirstCapture, owner_of, stored, work
from tests.support.live_server import live_server, test_settings
from tests.support.requester import create_table


async def stored_capture_seq(data_dir: Path, table_id: str) -> tuple[int | None, int]:
    store = SQLiteStore(data_dir / "crowdfill.sqlite3")
    await store.open()
    try:
        saved = await store.load_capture(table_id)
        return (None if saved is None else saved[0]), await store.last_seq(table_id)
    finally:
        await store.close()


async def test_a_clean_stop_captures_a_live_table_at_its_last_seq_and_the_restart_restores_it(
    tmp_path: Path,
) -> None:
    config = test_settings(store_url=None, data_dir=tmp_path, shutdown_capture_seconds=30.0)
    with live_server(config) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=3)
            before = await state(http, table_id)
    captured, last = await stored_capture_seq(tmp_path, table_id)
    assert last > 0
    assert captured == last  # the periodic capture (every 10,000) never ran: the stop took it
    with live_server(config) as server:
        owner = server.app.tables.loaded(table_id)
        assert owner is not None
        assert owner._capturer.seq == last  # restored from that capture, nothing replayed after it
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            assert await state(http, table_id) == before


async def test_a_stop_with_shutdown_captures_off_leaves_no_capture(tmp_path: Path) -> None:
    config = test_settings(store_url=None, data_dir=tmp_path, shutdown_capture_seconds=0.0)
    with live_server(config) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table_id = (await create_table(http, OPEN_ENDED))["id"]
            await collect(server, http, table_id, rows=2)
    captured, last = await stored_capture_seq(tmp_path, table_id)
    assert last > 0
    assert captured is None


async def test_a_capture_that_outlasts_the_deadline_is_given_up_without_cancelling_the_caller() -> None:
    inner = MemoryStore()
    await inner.open()
    await stored(inner)
    store = HeldFirstCapture(inner)
    owner = await owner_of(store, test_settings(capture_every=10_000, capture_fork=False))  # type: ignore[arg-type]  # duck-typed store
    await work(owner, random.Random(3), 12)
    started = time.monotonic()
    assert await owner.capture_before_stop(time.monotonic() + 0.2) is False  # held: given up
    assert store.held.is_set()
    assert time.monotonic() - started < 5
    store.release.set()
    await asyncio.sleep(0)
    assert await owner.capture_before_stop(time.monotonic() + 10) is True
    saved = await store.inner.load_capture("t")
    assert saved is not None
    assert saved[0] == owner.seq
    await owner.stop()
