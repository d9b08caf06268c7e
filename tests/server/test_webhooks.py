"""Webhooks end to end: a live server, real Socket.IO workers and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crowdfill.client import AsyncClient, InvalidRequest, NotFound
from crowdfill.client.signature import verify_signature
from crowdfill.store import open_store
from crowdfill.wire.webhooks import Delivery
from tests.support.crowd import join
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.receiver import Receiver
from tests.support.requester import CAPITALS

ONE_ROW = {**CAPITALS, "template": [{"country": "France"}]}


@pytest.fixture
def fast_server() -> Iterator[LiveServer]:
    settings = test_settings(
        webhook_retry_seconds=0.05, webhook_retry_cap_seconds=0.2, webhook_max_attempts=4
    )
    with live_server(settings) as running:
        yield running


@pytest.fixture
async def sdk(fast_server: LiveServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(fast_server.base_url, fast_server.settings.requester_token, timeout=10) as client:
        yield client


@pytest.fixture
async def http(fast_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=fast_server.base_url, headers=fast_server.headers, timeout=10
    ) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


async def log_until(
    sdk: AsyncClient, table_id: str, hook_id: str, done: Callable[[list[Delivery]], bool]
) -> list[Delivery]:
    deadline = time.monotonic() + 15
    while True:
        deliveries = await sdk.deliveries(table_id, hook_id)
        if done(deliveries):
            return deliveries
        assert time.monotonic() < deadline, deliveries
        await asyncio.sleep(0.02)


async def test_a_whole_collection_sends_signed_events_of_everything_that_happened(
    fast_server: LiveServer, sdk: AsyncClient, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    table = await sdk.create_table(ONE_ROW)
    hook = await sdk.create_webhook(table.id, receiver.url)
    await sdk.launch(table.id)
    ann, bob = await join(fast_server, http, table.id, "ann", "bob")
    france = next(iter(ann.rows()))
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    await receiver.wait_for(lambda r: len(r.events()) == 6)
    # Deliveries go out concurrently; the delivery log (newest first) keeps the order of the events.
    log = await log_until(sdk, table.id, hook.hook_id, lambda d: all(x.state == "delivered" for x in d))
    by_id = {event["id"]: event for event in receiver.events()}
    events = [by_id[d.event_id] for d in reversed(log)]
    assert types(events) == [
        "table.launched",
        "worker.joined",
        "worker.joined",
        "row.final",
        "table.completed",
        "payment.settled",
    ]
    assert [e["data"]["worker_id"] for e in events[1:3]] == ["ann", "bob"]
    assert events[3]["data"] == {
        "table_id": table.id,
        "seq": events[3]["data"]["seq"],
        "row_id": "paris",
        "final": True,
        "values": {"country": "France", "capital": "Paris"},
    }
    settlement = (await sdk.compensation(table.id)).settlement
    assert settlement is not None
    assert events[5]["data"]["payments"] == settlement["payments"]
    assert len({event["id"] for event in events}) == len(events)
    for received in receiver.received:
        signature = received.headers["CrowdFill-Signature"]
        assert verify_signature(hook.secret, signature, received.body, now=time.time())
        assert not verify_signature("whsec_wrong", signature, received.body, now=time.time())
        assert received.headers["CrowdFill-Event-Id"] == received.event["id"]
    assert all(len(d.attempts) == 1 and d.attempts[0].status_code == 200 for d in log)
    for worker in (ann, bob):
        await worker.disconnect()


async def test_a_hook_gets_only_the_events_it_asked_for_and_blocking_is_one(
    sdk: AsyncClient, receiver: Receiver
) -> None:
    table = await sdk.create_table(ONE_ROW)
    await sdk.create_webhook(table.id, receiver.url, ["worker.blocked", "table.closed"])
    await sdk.launch(table.id)
    await sdk.block(table.id, "mallory")
    await sdk.close_table(table.id)
    await receiver.wait_for(lambda r: len(r.events()) == 2)
    events = receiver.events()
    assert types(events) == ["worker.blocked", "table.closed"]
    assert events[0]["data"]["worker_id"] == "mallory"
    assert events[1]["data"]["status"] == "closed"


async def test_a_receiver_down_for_a_while_gets_the_event_after_retries(sdk: AsyncClient) -> None:
    late = Receiver()  # its port is known, nothing listens on it yet
    table = await sdk.create_table(ONE_ROW)
    hook = await sdk.create_webhook(table.id, late.url, ["table.launched"])
    await sdk.launch(table.id)
    failed = await log_until(sdk, table.id, hook.hook_id, lambda d: bool(d) and len(d[0].attempts) >= 2)
    assert failed[0].state == "pending"
    assert all(a.status_code is None and a.error for a in failed[0].attempts)
    late.start()
    try:
        await late.wait_for(lambda r: len(r.accepted()) == 1)
        log = await log_until(sdk, table.id, hook.hook_id, lambda d: d[0].state == "delivered")
    finally:
        late.stop()
    assert late.events()[0]["id"] == log[0].event_id == failed[0].event_id
    assert log[0].attempts[-1].status_code == 200


async def test_a_receiver_answering_500_is_retried_with_backoff_then_given_up(sdk: AsyncClient) -> None:
    broken = Receiver(status=500)
    broken.start()
    try:
        table = await sdk.create_table(ONE_ROW)
        hook = await sdk.create_webhook(table.id, broken.url, ["table.launched"])
        await sdk.launch(table.id)
        log = await log_until(sdk, table.id, hook.hook_id, lambda d: bool(d) and d[0].state == "failed")
    finally:
        broken.stop()
    attempts = log[0].attempts
    assert [a.status_code for a in attempts] == [500, 500, 500, 500]  # webhook_max_attempts
    assert len(broken.received) == 4
    assert len({r.event["id"] for r in broken.received}) == 1
    # The waits double from 0.05 s, capped at 0.2 s: each gap is at least the policy's delay.
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= wanted for gap, wanted in zip(gaps, [0.05, 0.1, 0.2], strict=True))
    assert log[0].next_attempt_at is None


async def test_a_receiver_that_fails_twice_then_answers_is_delivered_on_the_third_attempt(
    sdk: AsyncClient,
) -> None:
    flaky = Receiver(failures=2)
    flaky.start()
    try:
        table = await sdk.create_table(ONE_ROW)
        hook = await sdk.create_webhook(table.id, flaky.url, ["table.launched"])
        await sdk.launch(table.id)
        log = await log_until(sdk, table.id, hook.hook_id, lambda d: bool(d) and d[0].state == "delivered")
    finally:
        flaky.stop()
    assert [a.status_code for a in log[0].attempts] == [500, 500, 200]


async def test_pending_deliveries_survive_a_restart(tmp_path: Path) -> None:
    late = Receiver()
    store_url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    settings = test_settings(store_url=store_url, webhook_retry_seconds=0.05, webhook_retry_cap_seconds=0.1)
    with live_server(settings, open_store(store_url)) as first:
        async with AsyncClient(first.base_url, settings.requester_token) as sdk:
            table = await sdk.create_table(ONE_ROW)
            hook = await sdk.create_webhook(table.id, late.url, ["table.launched"])
            await sdk.launch(table.id)
            pending = await log_until(
                sdk, table.id, hook.hook_id, lambda d: bool(d) and len(d[0].attempts) >= 1
            )
    late.start()
    try:
        with live_server(settings, open_store(store_url)) as second:
            async with AsyncClient(second.base_url, settings.requester_token) as sdk:
                await late.wait_for(lambda r: len(r.accepted()) == 1)
                log = await log_until(sdk, table.id, hook.hook_id, lambda d: d[0].state == "delivered")
                assert [h.hook_id for h in await sdk.webhooks(table.id)] == [hook.hook_id]
    finally:
        late.stop()
    assert late.events()[0]["id"] == pending[0].event_id == log[0].event_id


async def test_hooks_are_listed_and_deleted_and_bad_registrations_are_refused(
    sdk: AsyncClient, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    table = await sdk.create_table(ONE_ROW)
    hook = await sdk.create_webhook(table.id, receiver.url)
    assert [h.url for h in await sdk.webhooks(table.id)] == [receiver.url]
    assert len(hook.events) == 7
    with pytest.raises(InvalidRequest, match="http:// or https://"):
        await sdk.create_webhook(table.id, "ftp://example.org/hook")
    refused = await http.post(
        f"/api/tables/{table.id}/webhooks", json={"url": receiver.url, "events": ["row.nope"]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "malformed"
    with pytest.raises(NotFound, match="table_not_found"):
        await sdk.webhooks("t-missing")
    assert (await sdk.delete_webhook(table.id, hook.hook_id)).deleted
    with pytest.raises(NotFound, match="no webhook"):
        await sdk.delete_webhook(table.id, hook.hook_id)
    await sdk.launch(table.id)
    assert await sdk.webhooks(table.id) == []
    assert receiver.events() == []


async def test_a_row_that_leaves_the_final_table_is_announced_too(
    fast_server: LiveServer, sdk: AsyncClient, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    table = await sdk.create_table(CAPITALS)  # France and Spain: one final row does not complete it
    await sdk.create_webhook(table.id, receiver.url, ["row.final"])
    await sdk.launch(table.id)
    ann, bob, cat, dan = await join(fast_server, http, table.id, "ann", "bob", "cat", "dan")
    france = next(row_id for row_id, values in ann.rows().items() if ("country", "France") in values)
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    await receiver.wait_for(lambda r: len(r.events()) == 1)
    for critic in (cat, dan):
        await critic.wait_for(lambda c=critic: "paris" in c.rows())
        assert (await critic.downvote("paris"))["ok"]
    await receiver.wait_for(lambda r: len(r.events()) == 2)
    entered, left = sorted(receiver.events(), key=lambda e: e["data"]["seq"])
    assert (entered["data"]["row_id"], entered["data"]["final"]) == ("paris", True)
    assert (left["data"]["row_id"], left["data"]["final"]) == ("paris", False)
    assert "values" not in left["data"]
    assert (await sdk.table(table.id)).final_rows == 0
    for worker in (ann, bob, cat, dan):
        await worker.disconnect()


async def test_a_fault_in_the_webhooks_neither_refuses_operations_nor_stops_the_table(
    fast_server: LiveServer,
    sdk: AsyncClient,
    http: httpx.AsyncClient,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = await sdk.create_table(ONE_ROW)
    await sdk.create_webhook(table.id, receiver.url)

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug in the outbox")

    monkeypatch.setattr(fast_server.app.outbox, "publish", broken)
    assert (await sdk.launch(table.id)).status == "live"
    ann, bob = await join(fast_server, http, table.id, "ann", "bob")
    france = next(iter(ann.rows()))
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    await ann.wait_for(lambda: ann.complete is not None)
    assert (await sdk.table(table.id)).status == "complete"
    assert (await sdk.block(table.id, "bob")).blocked
    assert receiver.events() == []
    for worker in (ann, bob):
        await worker.disconnect()
