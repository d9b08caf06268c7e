"""Forwards of one owner batch reach each worker as one frame; acks stay one per operation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.support.crowd import crowd
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import SOCCER, candidates


@pytest.fixture
def lingering() -> Iterator[LiveServer]:
    # The owner waits 0.3 s before taking its batch, so operations sent together are one batch.
    with live_server(test_settings(batch_linger_seconds=0.3)) as running:
        yield running


@pytest.fixture
async def http(lingering: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=lingering.base_url, headers=lingering.headers, timeout=10
    ) as client:
        yield client


async def test_operations_of_one_batch_reach_a_watching_worker_as_one_ops_frame_in_seq_order(
    lingering: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(lingering, http, SOCCER, "ann", "bob", "cat", "dan")
    ann, bob, cat, dan = players.workers
    acks = await asyncio.gather(
        ann.fill(players.row_id(nationality="Brazil"), "name", "Neymar"),
        bob.fill(players.row_id(nationality="Spain"), "name", "Xavi"),
        cat.fill(players.row_id(nationality="Brazil"), "position", "FW"),
    )
    assert all(ack["ok"] for ack in acks), acks
    seqs = sorted(ack["seq"] for ack in acks)
    await dan.wait_for_seq(seqs[-1])
    assert len(dan.batches) == 1
    assert [entry["seq"] for entry in dan.batches[0]["ops"]] == seqs
    assert "from_seq" not in dan.batches[0]
    # The operations in the frame are the acknowledged ones, exactly.
    by_seq = {ack["seq"]: ack["op"] for ack in acks}
    assert all(entry["op"] == by_seq[entry["seq"]] for entry in dan.batches[0]["ops"])
    await players.disconnect()


async def test_a_sender_in_the_batch_gets_the_others_operations_in_one_frame_and_its_own_as_an_ack(
    lingering: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(lingering, http, SOCCER, "ann", "bob", "cat")
    ann, bob, cat = players.workers
    acks = await asyncio.gather(
        ann.fill(players.row_id(nationality="Brazil"), "name", "Neymar"),
        bob.fill(players.row_id(nationality="Spain"), "name", "Xavi"),
        cat.fill(players.row_id(nationality="Brazil"), "position", "FW"),
    )
    last = max(ack["seq"] for ack in acks)
    for worker, ack in zip((ann, bob, cat), acks, strict=True):
        await worker.wait_for_seq(last)
        others = sorted({a["seq"] for a in acks} - {ack["seq"]})
        assert len(worker.batches) == 1, worker.worker_id
        assert [entry["seq"] for entry in worker.batches[0]["ops"]] == others
        assert ack["seq"] not in {entry["seq"] for entry in worker.forwarded}
    view = await candidates(http, players.table["id"])
    for worker in (ann, bob, cat):
        assert {r: dict(v) for r, v in worker.rows().items()} == {
            row["row_id"]: row["values"] for row in view["rows"]
        }
    await players.disconnect()


async def test_a_single_operation_is_still_forwarded_as_one_op_event(
    lingering: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(lingering, http, SOCCER, "ann", "bob")
    ann, bob = players.workers
    ack = await ann.fill(players.row_id(nationality="Brazil"), "name", "Neymar")
    await bob.wait_for_seq(ack["seq"])
    assert bob.batches == []
    assert [entry["seq"] for entry in bob.forwarded] == [ack["seq"]]
    await players.disconnect()
