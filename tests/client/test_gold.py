"""The SDK's gold-row methods against a real server, sync and async."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crowdfill.client import AsyncClient, Client, InvalidRequest, WrongState
from crowdfill.wire.definition import GoldRowModel
from tests.support.live_server import LiveServer, live_server
from tests.support.requester import CAPITALS
from tests.support.worker_client import WorkerClient

PARIS = {"values": {"country": "France", "capital": "Paris"}, "verdict": True}


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


def test_the_sync_client_adds_lists_imports_and_removes_gold_rows_while_draft(server: LiveServer) -> None:
    with Client(server.base_url, server.settings.requester_token) as sdk:
        table = sdk.create_table(CAPITALS)
        paris = sdk.add_gold_row(table.id, PARIS)
        assert (paris.values, paris.verdict) == (PARIS["values"], True)
        imported = sdk.import_gold_csv(table.id, "country,capital,verdict\nSpain,Barcelona,false\n")
        assert imported.imported == 1
        assert [(row.values["country"], row.verdict) for row in sdk.gold_rows(table.id).gold] == [
            ("France", True),
            ("Spain", False),
        ]
        with pytest.raises(InvalidRequest, match="duplicates gold row 1"):
            sdk.add_gold_row(
                table.id, GoldRowModel(values={"country": "France", "capital": "Paris"}, verdict=False)
            )
        with pytest.raises(InvalidRequest, match="verdict must be true or false"):
            sdk.import_gold_csv(table.id, "country,capital,verdict\nPeru,Lima,maybe\n")
        assert sdk.remove_gold_row(table.id, imported.gold[1].id).deleted
        assert [row.id for row in sdk.gold_rows(table.id).gold] == [paris.id]
        sdk.launch(table.id)
        with pytest.raises(WrongState, match="only be changed while the table is a draft"):
            sdk.add_gold_row(table.id, PARIS | {"values": {"country": "Peru", "capital": "Lima"}})


async def test_the_async_client_reads_each_voters_answers_and_screening_outcomes(server: LiveServer) -> None:
    async with AsyncClient(server.base_url, server.settings.requester_token) as sdk:
        draft = await sdk.create_table({**CAPITALS, "rate_limit": {"ops_per_second": 1000, "burst": 1000}})
        gold = await sdk.add_gold_row(draft.id, PARIS)
        await sdk.launch(draft.id)
        link = await sdk.create_link(draft.id, "ann")
        assert link.token is not None
        ann = WorkerClient(server.base_url, link.token)
        await ann.connect()
        assert (await ann.downvote(gold.id))["ok"]
        (answer,) = await sdk.gold_answers(draft.id)
        assert answer.id == gold.id
        assert answer.use == "live"
        assert [(v.worker_id, v.answer, v.right) for v in answer.votes] == [("ann", "down", False)]
        (worker,) = await sdk.workers(draft.id)
        assert (worker.worker_id, worker.screening) == ("ann", None)
        await ann.disconnect()
