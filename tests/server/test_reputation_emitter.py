"""The reputation emitter: what it decides (pure) and that its reweighs are sequenced, logged and
replayed like any operation (a real owner over a real store, no sockets)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from crowdfill.model import CandidateTable, Fill, Reweigh, Scoring, Upvote, Values
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import TableOwner
from crowdfill.server.quality_settings import QualitySettings
from crowdfill.server.reputation_emitter import LOOP_SHARE, ReputationEmitter, decide, rest_after
from crowdfill.store.memory import MemoryStore
from crowdfill.store.sqlite import SQLiteStore
from tests.model.support import RONALDINHO_MF, Builder, soccer_table
from tests.server.owner_support import QuietListener, launch_owner
from tests.support.live_server import test_settings

QUALITY = QualitySettings(floor=0.6, step=0.25, every_ops=1, every_seconds=0)
GOLD_WRONG: dict[Values, bool] = {frozenset(RONALDINHO_MF.items()): False}

REPUTATION_ROW: dict[str, Any] = {
    "name": "Capitals",
    "schema": {"columns": [{"name": "country"}, {"name": "capital"}], "key": ["country"]},
    "scoring": {"family": "reputation", "min_votes": 2},
    "template": [{"country": "France"}],
    "budget_cents": 100,
    "quality": {"floor": 0.6, "step": 0.25, "every_ops": 1, "every_seconds": 0},
}
LYON = frozenset({("country", "France"), ("capital", "Lyon")})


def _voted_wrong_on_gold() -> CandidateTable:
    table = soccer_table(Scoring("reputation"))
    build = Builder(table)
    build.row_with("w9", RONALDINHO_MF)  # w9 fills it and so upvotes it; gold says it is wrong
    return table


def test_a_worker_who_upvoted_a_false_gold_row_is_due_a_reweigh_to_zero_one_version_up() -> None:
    table = _voted_wrong_on_gold()
    assert decide(table, GOLD_WRONG, QUALITY) == [Reweigh("w9", 0.0, 1)]


def test_without_gold_nothing_judges_the_vote_and_nothing_is_due() -> None:
    assert decide(_voted_wrong_on_gold(), {}, QUALITY) == []


def test_once_integrated_the_same_state_calls_for_nothing_more() -> None:
    table = _voted_wrong_on_gold()
    for op in decide(table, GOLD_WRONG, QUALITY):
        table.integrate(op)
    assert table.weight("w9") == 0.0
    assert decide(table, GOLD_WRONG, QUALITY) == []


def test_an_excluded_worker_is_never_reweighed_by_the_emitter_whatever_their_estimate() -> None:
    table = _voted_wrong_on_gold()
    table.integrate(Reweigh("w9", 0.0, 1, excluded=True))
    assert decide(table, GOLD_WRONG, QUALITY) == []
    assert decide(table, {frozenset(RONALDINHO_MF.items()): True}, QUALITY) == []
    assert table.excluded("w9")


def test_a_lower_floor_keeps_the_same_worker_counting_at_a_lower_weight() -> None:
    lenient = QualitySettings(floor=0.5, step=0.25, every_ops=1, every_seconds=0)
    (op,) = decide(_voted_wrong_on_gold(), GOLD_WRONG, lenient)
    assert op.worker == "w9"
    assert 0.0 < op.weight < 1.0


async def _fill_lyon(owner: TableOwner) -> None:
    (row,) = owner.table.rows()
    outcome = await owner.submit(Fill("mallory", row.row_id, "n-lyon", "capital", "Lyon", LYON))
    assert outcome.published is not None, outcome.failure


def test_after_deciding_the_emitter_rests_so_that_deciding_takes_at_most_its_share_of_the_loop() -> None:
    for deciding in (0.001, 0.5, 3.0):
        rest = rest_after(deciding)
        assert deciding / (deciding + rest) == pytest.approx(LOOP_SHARE)
    assert rest_after(0.0) == 0.0
    assert rest_after(1.0, share=0.5) == pytest.approx(1.0)


async def test_the_emitter_sequences_its_reweighs_through_the_owner_into_the_log() -> None:
    store = await _memory()
    owner = await launch_owner(store, REPUTATION_ROW)
    told: list[Reweigh] = []

    async def notify(_: TableOwner, op: Reweigh) -> None:
        told.append(op)

    emitter = ReputationEmitter(owner, lambda: {LYON: False}, notify)
    await _fill_lyon(owner)
    assert emitter.deciding_seconds == 0.0
    assert await emitter.emit_due() == [Reweigh("mallory", 0.0, 1)]
    assert emitter.deciding_seconds > 0.0  # what the emitter rests after, in proportion
    assert told == [Reweigh("mallory", 0.0, 1)]
    log = [sequenced_from_wire(record.operation) for record in await store.read_log("t-owner")]
    assert log[-1] == Reweigh("mallory", 0.0, 1)
    assert "mallory" in owner.ops_by_worker  # her fill; the reweigh is not counted as her op
    assert owner.ops_by_worker["mallory"] == 1
    assert await emitter.emit_due() == []
    await owner.stop()


async def test_a_stale_reweigh_is_refused_and_changes_nothing() -> None:
    owner = await launch_owner(await _memory(), REPUTATION_ROW)
    await _fill_lyon(owner)
    refused = await owner.submit(Reweigh("mallory", 0.5, 2))
    assert refused.failure is not None
    assert refused.failure.code == "reweigh_stale"
    assert owner.table.weight("mallory") == 1.0
    await owner.stop()


async def test_the_running_emitter_wakes_after_operations_and_a_restart_replays_its_reweighs(
    tmp_path: Path,
) -> None:
    url = tmp_path / "crowdfill.sqlite3"
    store = SQLiteStore(str(url))
    await store.open()
    owner = await launch_owner(store, REPUTATION_ROW)
    emitter = ReputationEmitter(owner, lambda: {LYON: False}, _ignore)
    emitter.start()
    await _fill_lyon(owner)
    for _ in range(200):
        if owner.table.weight("mallory") == 0.0:
            break
        await _settle()
    assert owner.table.weight("mallory") == 0.0
    fingerprint = owner.table.fingerprint()
    await emitter.stop()
    await owner.stop()
    await store.close()

    reopened = SQLiteStore(str(url))
    await reopened.open()
    record = await reopened.get_table("t-owner")
    assert record is not None
    spec = spec_from_json(record.definition)
    again = TableOwner("t-owner", spec, record.status, reopened, test_settings(), QuietListener())
    await again.load()
    assert again.table.weight("mallory") == 0.0
    assert again.table.fingerprint() == fingerprint
    vote = await again.submit(Upvote("mallory", "n-lyon", LYON))
    assert vote.failure is not None  # already upvoted by her fill; the table is unchanged
    await again.stop()
    await reopened.close()


async def _memory() -> MemoryStore:
    store = MemoryStore()
    await store.open()
    return store


async def _ignore(_: TableOwner, __: Reweigh) -> None:
    return None


async def _settle() -> None:
    await asyncio.sleep(0.01)


async def test_with_operations_too_few_to_wake_it_the_emitter_still_looks_on_its_timer() -> None:
    timed = {**REPUTATION_ROW, "quality": {"every_ops": 1000, "every_seconds": 0.05}}
    owner = await launch_owner(await _memory(), timed)
    emitter = ReputationEmitter(owner, lambda: {LYON: False}, _ignore)
    emitter.start()
    await _settle()  # the first look, at start, finds nothing to do
    await _fill_lyon(owner)
    for _ in range(200):
        if owner.table.weight("mallory") == 0.0:
            break
        await _settle()
    assert owner.table.weight("mallory") == 0.0
    await emitter.stop()
    await owner.stop()


async def test_stopping_the_emitter_just_as_its_wake_up_is_set_still_ends_it() -> None:
    # On Python 3.11, a wait_for whose inner wait completes in the same loop turn as the task's
    # cancellation returns the result and drops the cancellation: stop() would then wait forever
    # for a loop that goes on looking. Set the wake-up and stop in the same turn, many times.
    timed = {**REPUTATION_ROW, "quality": {"every_ops": 1000, "every_seconds": 30}}
    owner = await launch_owner(await _memory(), timed)
    hung: list[int] = []
    for attempt in range(20):
        emitter = ReputationEmitter(owner, lambda: {LYON: False}, _ignore)
        emitter.start()
        await _settle()  # the first look is done; the emitter waits for the next wake-up
        task = emitter._task
        assert task is not None

        def hang(attempt: int = attempt, task: asyncio.Task[None] = task) -> None:
            hung.append(attempt)  # a stop that hangs: say so, and end it by cancelling again
            task.cancel()

        watchdog = asyncio.get_running_loop().call_later(2.0, hang)
        emitter._wake.set()
        await emitter.stop()  # in the same loop turn as the wake-up
        watchdog.cancel()
        assert task.done()
        await emitter.stop()  # a second stop is a no-op
    assert hung == []
    await owner.stop()
