"""``AsyncClient`` against a real server: every requester endpoint, typed answers, async iterators."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crowdfill.client import AsyncClient, InvalidRequest, NotFound, Unauthorized, WrongState
from crowdfill.wire.definition import DefinitionPatch
from tests.support.live_server import LiveServer, live_server
from tests.support.requester import CAPITALS
from tests.support.worker_client import WorkerClient


@pytest.fixture
async def server() -> AsyncIterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture
async def sdk(server: LiveServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.base_url, server.settings.requester_token) as client:
        yield client


async def test_a_draft_is_created_patched_launched_and_closed(sdk: AsyncClient) -> None:
    table = await sdk.create_table(CAPITALS)
    assert (table.status, table.columns) == ("draft", [("country", "text"), ("capital", "text")])
    patched = await sdk.patch_table(table.id, DefinitionPatch(budget_cents=900))
    assert patched.definition["budget_cents"] == 900
    assert [t.id for t in await sdk.tables()] == [table.id]
    live = await sdk.launch(table.id)
    assert live.status == "live"
    assert live.worker_url.endswith(f"/w/{table.id}")
    with pytest.raises(WrongState, match="table_not_draft"):
        await sdk.patch_table(table.id, {"budget_cents": 1})
    closed = await sdk.close_table(table.id)
    assert closed.status == "closed"
    assert closed.finished
    assert (await sdk.compensation(table.id)).settled
    audit = await sdk.audit(table.id)
    assert audit.ok
    assert audit.table_id == table.id
    assert audit.checks


async def test_rows_log_exports_and_watch_follow_the_workers(server: LiveServer, sdk: AsyncClient) -> None:
    table = await sdk.launch((await sdk.create_table({**CAPITALS, "template": [{"country": "France"}]})).id)
    link = await sdk.create_link(table.id, "ann", expires_in_seconds=3600)
    assert link.token is not None
    assert link.expires_at is not None
    ann = WorkerClient(server.base_url, link.token)
    await ann.connect()
    france = next(iter(ann.rows()))
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    candidates = await sdk.candidates(table.id)
    paris = next(row for row in candidates.rows if row.row_id == "paris")
    assert (paris.values, paris.up, paris.final) == ({"country": "France", "capital": "Paris"}, 1, False)
    matching = await sdk.matching(table.id)
    assert matching.template[0].values == {"country": "France"}
    assert not matching.satisfied
    assert [w.worker_id for w in await sdk.workers(table.id)] == ["ann"]
    estimates = await sdk.compensation(table.id)
    assert not estimates.settled
    assert estimates.workers is not None
    assert "ann" in estimates.workers
    entries = [entry async for entry in sdk.log(table.id, page=1)]
    assert [e.seq for e in entries] == list(range(1, candidates.seq + 1))
    assert [e.seq async for e in sdk.log(table.id, after_seq=1, upto=2)] == [2]
    lines = [line async for line in sdk.export_lines(table.id, "candidates.jsonl")]
    assert len(lines) == len(candidates.rows)
    with pytest.raises(NotFound):
        _ = [line async for line in sdk.export_lines(table.id, "nope.xml")]
    seen = []
    async for now in sdk.watch(table.id, every=0.01):
        seen.append(now.status)
        if now.status == "live":
            await sdk.close_table(table.id)
    assert seen[-1] == "closed"
    assert (await sdk.final(table.id)).status == "closed"
    await ann.disconnect()


async def test_links_blocks_and_their_refusals(sdk: AsyncClient) -> None:
    table = await sdk.create_table(CAPITALS)
    await sdk.create_link(table.id, "bea")
    assert [(link.worker_id, link.revoked) for link in await sdk.links(table.id)] == [("bea", False)]
    assert (await sdk.revoke_link(table.id, "bea")).revoked
    assert (await sdk.links(table.id))[0].url is None
    assert (await sdk.block(table.id, "bea")).blocked
    assert [(w.worker_id, w.blocked) for w in await sdk.workers(table.id)] == [("bea", True)]
    assert not (await sdk.unblock(table.id, "bea")).blocked
    with pytest.raises(NotFound, match="not blocked"):
        await sdk.unblock(table.id, "bea")
    with pytest.raises(InvalidRequest, match="malformed"):
        await sdk.create_link(table.id, "central")


async def test_a_worker_is_excluded_and_restored_and_the_reputation_lists_them(
    server: LiveServer, sdk: AsyncClient
) -> None:
    table = await sdk.launch((await sdk.create_table(CAPITALS)).id)
    link = await sdk.create_link(table.id, "bea")
    assert link.token is not None
    bea = WorkerClient(server.base_url, link.token)
    await bea.connect()
    france = next(rid for rid, values in bea.rows().items() if dict(values) == {"country": "France"})
    assert (await bea.fill(france, "capital", "Paris"))["ok"]
    excluded = await sdk.exclude(table.id, "bea")
    assert (excluded.status, excluded.counted, excluded.weight) == ("excluded", False, 0.0)
    listed = await sdk.reputation(table.id)
    assert [(w.worker_id, w.status) for w in listed.workers] == [("bea", "excluded")]
    assert (await sdk.include(table.id, "bea")).status == "counted"
    with pytest.raises(NotFound, match="worker_not_found"):
        await sdk.exclude(table.id, "nobody")
    await bea.disconnect()


async def test_a_wrong_token_is_unauthorized(server: LiveServer) -> None:
    async with AsyncClient(server.base_url, "wrong") as stranger:
        with pytest.raises(Unauthorized) as refused:
            await stranger.tables()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


async def test_marketplace_urls_are_signed_by_the_server(sdk: AsyncClient) -> None:
    table = await sdk.create_table(CAPITALS)
    mturk = await sdk.recruit_url(table.id, "mturk")
    assert mturk.batch is not None
    assert set(mturk.query) == {"cf_batch", "cf_sig"}
    assert (await sdk.record_batch_hits(table.id, mturk.batch, ["HIT1"])).hit_ids == ["HIT1"]
    prolific = await sdk.recruit_url(table.id, "prolific", "study1")
    assert prolific.study_id == "study1"
    assert "PROLIFIC_PID" in prolific.url
