"""With early forwarding a batch is forwarded before its last operation is integrated: the others
see it without waiting for the integration and the central client; the operation is in the table
(and its inserts follow it) before anything else is staged, appended or acknowledged
(``TableOwner._stage``'s ``defer``, ``TableOwner._forward_then_settle``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crowdfill.model import Downvote, Fill, Insert, Sequenced
from crowdfill.server.owner import COMPLETE, COMPLETION_KIND, LIVE, TableOwner
from crowdfill.store import open_store
from tests.server.owner_support import (
    ONE_ROW,
    RecordingForward,
    SlowAppends,
    launch_owner,
    logged_operations,
    submit_apart,
    submit_together,
)
from tests.support.live_server import test_settings


async def forwarding_owner(
    definition: dict[str, Any] = ONE_ROW, **settings: float
) -> tuple[TableOwner, SlowAppends, RecordingForward]:
    """An owner of ``definition`` with early forwarding, once the central client's seeds are
    appended (its appends counted from then on)."""
    store = SlowAppends(open_store("memory://"), delay=0.0)
    await store.inner.open()
    owner = await launch_owner(store, definition, settings=test_settings(**settings))  # type: ignore[arg-type]  # duck-typed store
    for _ in range(200):
        if owner.seq == len(definition["template"]) and owner.idle:
            break
        await asyncio.sleep(0.01)
    store.appends.clear()
    forwarder = RecordingForward()
    owner.early = forwarder
    return owner, store, forwarder


async def test_an_operation_is_forwarded_before_the_table_integrates_it_and_is_in_it_when_acked() -> None:
    owner, store, forwarder = await forwarding_owner()
    (empty,) = [row.row_id for row in owner.table.rows()]

    outcome = await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))

    assert outcome.published is not None, outcome.failure
    assert forwarder.new_row_present == {"r1": False}  # forwarded first
    assert "r1" in owner.table  # integrated before the ack
    assert empty not in owner.table
    assert [entry.seq for entry in forwarder.entries] == [outcome.published.seq]
    await owner.stop()
    await store.inner.close()


async def test_an_operation_batched_behind_another_is_checked_against_the_table_the_first_one_left() -> None:
    # A linger so both surely share a batch; the second fills the row the first one makes.
    owner, store, forwarder = await forwarding_owner(batch_linger_seconds=0.05)
    (empty,) = [row.row_id for row in owner.table.rows()]

    first, second = await submit_together(
        owner,
        [
            Fill("ann", empty, "r1", "country", "France", frozenset()),
            Fill("bob", "r1", "r2", "capital", "Paris", frozenset()),
        ],
    )

    assert first.published is not None, first.failure
    assert second.published is not None, second.failure
    assert forwarder.forwards == [[first.published.seq, second.published.seq]]  # one frame
    # Only the batch's last operation waits for its forward to be integrated.
    assert forwarder.new_row_present == {"r1": True, "r2": False}
    assert "r2" in owner.table
    await owner.stop()
    await store.inner.close()


async def test_the_inserts_an_operation_calls_for_are_forwarded_right_after_it_and_share_its_append() -> None:
    owner, store, forwarder = await forwarding_owner()
    (empty,) = [row.row_id for row in owner.table.rows()]
    filled = await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))
    assert filled.published is not None
    store.appends.clear()

    # The only candidate row downvoted: the central client inserts an empty row for the template.
    downvoted = await owner.submit(Downvote("bob", "r1", frozenset()))

    assert downvoted.published is not None, downvoted.failure
    seq = downvoted.published.seq
    assert forwarder.forwards[-2:] == [[seq], [seq + 1]]
    assert forwarder.entries[-1].op["type"] == "insert"
    assert store.appends == [[seq, seq + 1]]  # durable in the downvote's commit
    log = await logged_operations(store.inner, owner.table_id)
    assert [type(op) for _, op in log[-2:]] == [Downvote, Insert]
    assert owner.seq == seq + 1
    assert forwarder.entries[-1].op["row_id"] in owner.table
    await owner.stop()
    await store.inner.close()


async def test_an_operation_forwarded_first_that_satisfies_the_template_completes_at_its_seq() -> None:
    owner, store, forwarder = await forwarding_owner()
    (empty,) = [row.row_id for row in owner.table.rows()]
    await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))

    completing = await owner.submit(Fill("ann", "r1", "r2", "capital", "Paris", frozenset()))
    late = await owner.submit(Downvote("bob", "r2", frozenset()))

    assert completing.published is not None, completing.failure
    assert forwarder.new_row_present["r2"] is False
    assert owner.status == COMPLETE
    stored = await store.inner.get_item(owner.table_id, COMPLETION_KIND, "final")
    assert stored == {"status": COMPLETE, "seq": completing.published.seq}
    assert late.failure is not None
    assert late.failure.code == "table_closed"
    assert forwarder.entries[-1].seq == completing.published.seq  # nothing forwarded after it
    await owner.stop()
    await store.inner.close()


async def test_a_fault_integrating_an_operation_already_forwarded_refuses_it_and_resets_the_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner, store, forwarder = await forwarding_owner()
    (empty,) = [row.row_id for row in owner.table.rows()]
    before = owner.seq
    settle = owner.sequencer.settle
    failed: list[Sequenced] = []

    def failing_once(op: Sequenced) -> None:
        if not failed:
            failed.append(op)
            raise RuntimeError("a bug in the central client")
        settle(op)

    monkeypatch.setattr(owner.sequencer, "settle", failing_once)
    refused = await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))

    assert refused.failure is not None
    assert refused.failure.code == "internal_error"
    assert forwarder.new_row_present == {"r1": False}  # it had been forwarded
    assert forwarder.resets == 1  # so every client is brought back to the rebuilt table
    assert owner.seq == before
    assert "r1" not in owner.table
    assert empty in owner.table
    logged = await logged_operations(store.inner, owner.table_id)
    assert [seq for seq, _ in logged] == list(range(1, before + 1))
    accepted = await owner.submit(Fill("ann", empty, "r3", "country", "Spain", frozenset()))
    assert accepted.published is not None, accepted.failure
    assert accepted.published.seq == before + 1
    assert owner.status == LIVE
    await owner.stop()
    await store.inner.close()


# --- operations that arrive within the commit linger (``TableOwner._stage_arrivals``) -----------
# 30 ms apart within a 200 ms commit linger: each its own batch, all in one commit.
LINGERED = 0.03
THREE_COLUMNS = {
    **ONE_ROW,
    "schema": {"columns": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
    "template": [{}, {}, {}],
}


async def test_operations_within_the_linger_are_each_forwarded_first_and_checked_against_the_last() -> None:
    owner, store, forwarder = await forwarding_owner(THREE_COLUMNS, commit_linger_seconds=0.2)
    start = owner.seq
    row = owner.table.rows()[0].row_id

    outcomes = await submit_apart(
        owner,
        [  # each fills the row the one before it made (integrated only after its forward)
            Fill("ann", row, "n1", "a", "x", frozenset()),
            Fill("bob", "n1", "n2", "b", "y", frozenset()),
            Fill("cy", "n2", "n3", "c", "z", frozenset()),
        ],
        LINGERED,
    )

    assert [o.failure for o in outcomes] == [None, None, None]
    assert forwarder.forwards == [[start + 1], [start + 2], [start + 3]]
    assert forwarder.new_row_present == {"n1": False, "n2": False, "n3": False}
    assert store.appends == [[start + 1, start + 2, start + 3]]  # one commit
    assert "n3" in owner.table
    await owner.stop()
    await store.inner.close()


async def test_inserts_called_for_within_the_linger_follow_their_operation_in_the_same_commit() -> None:
    owner, store, forwarder = await forwarding_owner(commit_linger_seconds=0.2)
    (empty,) = [row.row_id for row in owner.table.rows()]
    filled = await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))
    assert filled.published is not None
    store.appends.clear()
    forwarder.forwards.clear()
    seq = filled.published.seq

    # The first downvote makes the only candidate red: an empty row is inserted for the template.
    outcomes = await submit_apart(
        owner, [Downvote("bob", "r1", frozenset()), Downvote("cy", "r1", frozenset())], LINGERED
    )

    assert [o.failure for o in outcomes] == [None, None]
    assert forwarder.forwards == [[seq + 1], [seq + 2], [seq + 3]]
    assert store.appends == [[seq + 1, seq + 2, seq + 3]]
    log = await logged_operations(store.inner, owner.table_id)
    assert [type(op) for _, op in log[-3:]] == [Downvote, Insert, Downvote]
    await owner.stop()
    await store.inner.close()


async def test_a_fault_integrating_an_operation_forwarded_in_the_linger_refuses_it_and_keeps_the_one_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner, store, forwarder = await forwarding_owner(commit_linger_seconds=0.2)
    (empty,) = [row.row_id for row in owner.table.rows()]
    filled = await owner.submit(Fill("ann", empty, "r1", "country", "France", frozenset()))
    assert filled.published is not None
    seq = filled.published.seq
    settle = owner.sequencer.settle
    settled: list[Sequenced] = []

    def failing_the_second(op: Sequenced) -> None:
        settled.append(op)
        if len(settled) == 3:  # bob's downvote, then its insert (applied), then cy's downvote
            raise RuntimeError("a bug in the central client")
        settle(op)

    monkeypatch.setattr(owner.sequencer, "settle", failing_the_second)
    first, second = await submit_apart(
        owner, [Downvote("bob", "r1", frozenset()), Downvote("cy", "r1", frozenset())], LINGERED
    )

    assert first.published is not None
    assert first.published.seq == seq + 1
    assert second.failure is not None
    assert second.failure.code == "internal_error"
    assert forwarder.resets == 1
    log = await logged_operations(store.inner, owner.table_id)
    assert [type(op) for _, op in log[-3:]] == [Fill, Downvote, Insert]  # bob's downvote is durable
    assert owner.seq == seq + 2
    assert owner.table.down("r1") == 1
    await owner.stop()
    await store.inner.close()
