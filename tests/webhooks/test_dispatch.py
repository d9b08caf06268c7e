"""The delivery policy and the outbox's bookkeeping, on the in-memory store."""

from __future__ import annotations

import pytest

from crowdfill.store.memory import MemoryStore
from crowdfill.webhooks import HookError, Hooks, Outbox, RetryPolicy
from crowdfill.webhooks.outbox import PENDING_KIND, PENDING_NAMESPACE


def test_the_wait_doubles_after_each_failed_attempt_up_to_the_cap() -> None:
    policy = RetryPolicy(first_delay=5, cap=60)
    assert [policy.delay(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize("url", ["ftp://example.org/x", "example.org/hook", "http://", "javascript:alert(1)"])
async def test_only_http_and_https_urls_with_a_host_are_accepted(url: str) -> None:
    store = MemoryStore()
    await store.open()
    with pytest.raises(HookError, match="http:// or https://"):
        await Hooks(store).add("t1", url, None)


async def test_an_event_becomes_one_pending_delivery_per_hook_that_wants_it() -> None:
    store = MemoryStore()
    await store.open()
    hooks = Hooks(store)
    everything = await hooks.add("t1", "http://127.0.0.1:9/a", None)
    blocks_only = await hooks.add("t1", "https://example.org/b", ["worker.blocked"])
    outbox = Outbox(store, hooks, clock=lambda: 1000.0)
    event = await outbox.publish("t1", "table.launched", {"table_id": "t1"})
    assert event is not None
    assert await outbox.publish("t2", "table.launched", {"table_id": "t2"}) is None
    assert [d["event_id"] for d in await outbox.deliveries("t1", everything["hook_id"], 10)] == [event["id"]]
    assert await outbox.deliveries("t1", blocks_only["hook_id"], 10) == []
    assert len(await store.list_items(PENDING_NAMESPACE, PENDING_KIND)) == 1
    # The cache is rebuilt from the store after a restart.
    again = Hooks(store)
    await again.load(["t1", "t2"])
    assert sorted(h["hook_id"] for h in again.of("t1")) == sorted(
        [everything["hook_id"], blocks_only["hook_id"]]
    )
    assert not again.any("t2")


async def test_deliveries_at_the_same_moment_keep_their_order() -> None:
    store = MemoryStore()
    await store.open()
    hooks = Hooks(store)
    hook = await hooks.add("t1", "http://127.0.0.1:9/a", None)
    outbox = Outbox(store, hooks, clock=lambda: 1000.0)
    published = [await outbox.publish("t1", "worker.joined", {"worker_id": str(n)}) for n in range(20)]
    newest_first = await outbox.deliveries("t1", hook["hook_id"], 100)
    assert [d["event_id"] for d in reversed(newest_first)] == [e["id"] for e in published if e is not None]
