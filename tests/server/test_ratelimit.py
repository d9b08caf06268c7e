"""Per-worker rate limits and the malformed-message rule (crowdfill/server/ratelimit.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from crowdfill.server.failures import Failure
from crowdfill.server.ratelimit import EdgeGuard, RateLimit
from tests.support.crowd import crowd
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.requester import CAPITALS, SOCCER, candidates, create_table, worker_token
from tests.support.worker_client import WorkerClient, refusal

SLOW = RateLimit(ops_per_second=2.0, burst=3)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refuses_with_the_wait_until_the_next_token() -> None:
    clock = Clock()
    guard = EdgeGuard(malformed_limit=5, clock=clock)
    for _ in range(SLOW.burst):
        guard.admit("s", "t", "ann", SLOW)
    with pytest.raises(Failure) as refused:
        guard.admit("s", "t", "ann", SLOW)
    assert refused.value.code == "rate_limited"
    assert refused.value.details["retry_after_ms"] == 500  # one token at 2 per second
    clock.now += 0.5
    guard.admit("s", "t", "ann", SLOW)


def test_each_worker_on_each_table_has_its_own_bucket() -> None:
    guard = EdgeGuard(malformed_limit=5, clock=Clock())
    for _ in range(SLOW.burst):
        guard.admit("s", "t", "ann", SLOW)
    guard.admit("s", "t", "bob", SLOW)
    guard.admit("s", "other", "ann", SLOW)
    with pytest.raises(Failure):
        guard.admit("s", "t", "ann", SLOW)


def test_an_idle_bucket_refills_only_up_to_its_burst() -> None:
    clock = Clock()
    guard = EdgeGuard(malformed_limit=5, clock=clock)
    guard.admit("s", "t", "ann", SLOW)
    clock.now += 3600
    for _ in range(SLOW.burst):
        guard.admit("s", "t", "ann", SLOW)
    with pytest.raises(Failure):
        guard.admit("s", "t", "ann", SLOW)


def test_the_malformed_limit_is_reported_once_and_forgotten_with_the_connection() -> None:
    guard = EdgeGuard(malformed_limit=3)
    assert [guard.malformed("s1") for _ in range(4)] == [False, False, True, False]
    guard.forget("s1")
    assert not guard.malformed("s1")


async def test_a_burst_beyond_the_tables_limit_is_rate_limited_with_a_hint_and_later_ops_succeed(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    definition = {
        **CAPITALS,
        "template": [{} for _ in range(6)],
        "rate_limit": {"ops_per_second": 4, "burst": 3},
    }
    players = await crowd(server, http, definition, "ann")
    (ann,) = players.workers
    rows = list(ann.rows())
    acks = [await ann.fill(row, "country", f"c{i}") for i, row in enumerate(rows[:4])]
    assert [a["ok"] for a in acks] == [True, True, True, False]
    error = acks[3]["error"]
    assert error["code"] == "rate_limited"
    assert 0 < error["retry_after_ms"] <= 250
    assert "per second" in error["message"]
    before = await candidates(http, players.table["id"])
    assert before["seq"] == acks[2]["seq"]  # the refused fill was not applied
    await asyncio.sleep(error["retry_after_ms"] / 1000)
    assert (await ann.fill(rows[3], "country", "c3"))["ok"]
    await players.disconnect()


async def test_the_servers_default_limit_applies_to_tables_that_set_none() -> None:
    with live_server(test_settings(rate_limit_ops_per_second=1.0, rate_limit_burst=2)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as rest:
            players = await crowd(server, rest, {**CAPITALS, "template": [{} for _ in range(3)]}, "ann")
            (ann,) = players.workers
            rows = list(ann.rows())
            acks = [await ann.fill(row, "country", f"c{i}") for i, row in enumerate(rows)]
            assert [a["ok"] for a in acks] == [True, True, False]
            assert acks[2]["error"]["code"] == "rate_limited"
            await players.disconnect()


async def test_a_rate_limit_in_a_definition_must_be_positive(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        "/api/tables", json={**CAPITALS, "rate_limit": {"ops_per_second": 0, "burst": 3}}
    )
    assert response.status_code == 422
    assert "rate_limit.ops_per_second" in response.json()["error"]["message"]


async def test_a_connection_sending_many_malformed_messages_is_disconnected() -> None:
    with live_server(test_settings(malformed_limit=5)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            table = await create_table(http, SOCCER)
            token = await worker_token(http, table["id"], "ann")
            ann = WorkerClient(server.base_url, token)
            await ann.connect()
            for _ in range(5):
                ack = await ann.sio.call("fill", {"row_id": 7}, namespace="/worker", timeout=5)
                assert ack["error"]["code"] == "malformed"
            await ann.wait_for(lambda: ann.kicked is not None and not ann.sio.connected)
            assert ann.kicked is not None
            assert ann.kicked["code"] == "too_many_malformed"
            # Only that connection: the worker may reconnect with a fixed client.
            again = WorkerClient(server.base_url, token)
            await again.connect()
            brazil = next(r for r, v in again.rows().items() if dict(v) == {"nationality": "Brazil"})
            assert (await again.fill(brazil, "name", "Neymar"))["ok"]
            await again.disconnect()


async def test_fewer_malformed_messages_than_the_limit_keep_the_connection(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    players = await crowd(server, http, SOCCER, "ann")
    (ann,) = players.workers
    for _ in range(server.settings.malformed_limit - 1):
        ack = await ann.sio.call("upvote", {}, namespace="/worker", timeout=5)
        assert ack["error"]["code"] == "malformed"
    brazil = players.row_id(nationality="Brazil")
    assert (await ann.fill(brazil, "name", "Neymar"))["ok"]
    assert ann.kicked is None
    await players.disconnect()


def test_a_connection_refused_many_times_in_a_row_is_reported_once_and_a_success_resets_it() -> None:
    clock = Clock()
    guard = EdgeGuard(malformed_limit=5, refusals_limit=2, clock=clock)
    for _ in range(SLOW.burst):
        guard.admit("s", "t", "ann", SLOW)
    reports = []
    for _ in range(3):
        with pytest.raises(Failure):
            guard.admit("s", "t", "ann", SLOW)
        reports.append(guard.ignoring("s"))
    assert reports == [False, True, False]
    clock.now += 1
    guard.admit("s", "t", "ann", SLOW)
    assert not guard.ignoring("s")


def test_a_cooling_worker_cannot_connect_until_its_bucket_would_be_full() -> None:
    clock = Clock()
    guard = EdgeGuard(malformed_limit=5, clock=clock)
    guard.check_connect("t", "ann")
    guard.cool_down("t", "ann", SLOW)
    with pytest.raises(Failure) as refused:
        guard.check_connect("t", "ann")
    assert refused.value.code == "rate_limited"
    assert refused.value.details["retry_after_ms"] == 1500  # a burst of 3 at 2 per second
    guard.check_connect("t", "bob")
    clock.now += 1.5
    guard.check_connect("t", "ann")


async def test_a_connection_that_ignores_the_retry_hints_is_dropped_and_kept_out_for_a_while() -> None:
    with live_server(test_settings(rate_limit_refusals=5)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
            definition = {**SOCCER, "rate_limit": {"ops_per_second": 0.5, "burst": 2}}
            table = await create_table(http, definition)
            token = await worker_token(http, table["id"], "ann")
            ann = WorkerClient(server.base_url, token)
            await ann.connect()
            codes = []
            for _ in range(7):
                ack = await ann.sio.call("upvote", {"row_id": "ghost"}, namespace="/worker", timeout=5)
                codes.append(ack["error"]["code"])
            assert codes == ["unknown_row"] * 2 + ["rate_limited"] * 5
            await ann.wait_for(lambda: ann.kicked is not None and not ann.sio.connected)
            assert ann.kicked is not None
            assert ann.kicked["code"] == "too_fast"
            refused = await refusal(server.base_url, {"token": token})
            assert refused["code"] == "rate_limited"
            assert 0 < refused["retry_after_ms"] <= 4000
