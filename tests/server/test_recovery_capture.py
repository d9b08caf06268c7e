"""Restarting from a state capture plus the log tail gives the table a full replay gives."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdfill.compensation import Estimator, LogMismatch
from crowdfill.model import Fill, Reweigh, Sequenced
from crowdfill.model.operations import Downvote, Upvote
from crowdfill.server import recovery
from crowdfill.server.capture import MAGIC, CaptureRefused
from crowdfill.server.definition import build_spec
from crowdfill.server.owner import LIVE, TableOwner
from crowdfill.server.settings import Settings
from crowdfill.store import MemoryStore, SQLiteStore, Store, TableRecord
from crowdfill.wire.definition import DefinitionModel
from tests.server.owner_support import QuietListener
from tests.support.live_server import test_settings
from tests.support.stores import FailNextAppend

DEFINITION = {
    "name": "capture",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
    "template": [{"a": "never"}, *({} for _ in range(6))],
    "budget_cents": 1000,
    "scoring": {"family": "reputation", "min_votes": 2},
    # A gold row is in the table from launch: restored, it must still be gold and still hidden.
    "gold": [
        {"id": "w-0123456789abcdef01234567", "values": {"a": "g1", "b": "g2", "c": "g3"}, "verdict": False}
    ],
}


class NoCapture:
    """A store that hides its capture: the owner replays the whole log (today's path)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def load_capture(self, table_id: str) -> None:
        return None


async def stored(store: Store) -> str:
    spec = build_spec(DefinitionModel.model_validate(DEFINITION))
    await store.create_table(TableRecord("t", spec.definition, LIVE, 0.0, 0.0))
    return "t"


async def owner_of(store: Store | NoCapture, config: Settings) -> TableOwner:
    spec = build_spec(DefinitionModel.model_validate(DEFINITION))
    owner = TableOwner("t", spec, LIVE, store, config, QuietListener())  # type: ignore[arg-type]  # duck-typed store
    await owner.load()
    return owner


async def worked_and_stopped(config: Settings, seed: int, ops: int) -> tuple[MemoryStore, dict[str, Any]]:
    """A table given ``ops`` random operations, its capture stored and its owner stopped: the store,
    and the state the owner ended in (with its ``derived`` state under "derived")."""
    store = MemoryStore()
    await store.open()
    await stored(store)
    live = await owner_of(store, config)
    await work(live, random.Random(seed), ops)
    await live._capturer.wait()
    expected = state(live)
    expected["derived"] = derived(live)
    await live.stop()
    return store, expected


async def work(owner: TableOwner, rng: random.Random, count: int) -> None:
    """``count`` worker operations chosen from the live rows (refusals are part of the mix)."""
    for _ in range(count):
        worker = f"w{rng.randrange(4)}"
        rows = [row for row in owner.table.rows() if dict(row.values).get("a") != "never"]
        empty = [(row, c) for row in rows for c in ("a", "b", "c") if c not in dict(row.values)]
        complete = [row for row in rows if len(row.values) == 3]
        op: Sequenced
        if rng.random() < 0.08:  # what the reputation emitter or an exclusion sequences
            held = {r.worker: r.version for r in owner.table.reweighs()}.get(worker, 0)
            op = Reweigh(worker, rng.choice([0.0, 0.5, 1.0]), held + 1)
        elif empty and (not complete or rng.random() < 0.6):
            row, column = rng.choice(empty)
            op = Fill(
                worker, row.row_id, f"n{rng.getrandbits(40):x}", column, f"v{rng.randrange(3)}", frozenset()
            )
        elif complete:
            kind = Upvote if rng.random() < 0.7 else Downvote
            op = kind(worker, rng.choice(complete).row_id, frozenset())
        else:
            continue
        await owner.submit(op)


def state(owner: TableOwner) -> dict[str, Any]:
    workers = sorted(owner.ops_by_worker)
    return {
        "seq": owner.seq,
        "table": owner.table.fingerprint(),
        "ops_by_worker": dict(owner.ops_by_worker),
        "fill_authors": owner.fill_authors(),
        "estimates": {w: owner.estimator.estimate(w) for w in workers},
        "satisfied": owner.central.satisfied,
        "probable": owner.estimator.probable_rows(),
        "recent": list(owner.ops_since(max(0, owner.seq - 50)) or []),
        "gold": owner.table.gold_ids(),
    }


def derived(owner: TableOwner) -> dict[str, Any]:
    """What a full replay does not rebuild as the live owner had it, and a capture restore must:
    the central client's matchings (a full replay restarts it from the table, which may choose
    another of the tied matchings), the positions waiting for votes, the inserts it asked for and
    the sequencer's planned ones; the estimator's exact running sums and ranks (a full replay
    builds it from the whole log at once)."""
    return {
        "matching": owner.central.matching(),
        "waiting": owner.central.waiting_for_votes(),
        "pending": owner.central.pending_inserts(),
        "planned": owner.sequencer.planned,
        "estimator": owner.estimator.fingerprint(),
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), every=st.integers(3, 25), ops=st.integers(1, 80))
async def test_a_capture_and_its_log_tail_restore_the_table_a_full_replay_restores(
    seed: int, every: int, ops: int
) -> None:
    config = test_settings(capture_every=every, capture_fork=False)
    store, expected = await worked_and_stopped(config, seed, ops)
    live_derived = expected.pop("derived")
    captured = await store.load_capture("t")
    restored = await owner_of(store, config)
    replayed = await owner_of(NoCapture(store), config)
    assert state(restored) == expected
    assert expected["gold"]
    assert all("gold" not in op for _, op in expected["recent"])  # the replay window stays public
    assert state(replayed)["table"] == expected["table"]
    assert state(replayed)["ops_by_worker"] == expected["ops_by_worker"]
    assert state(replayed)["probable"] == expected["probable"]
    if expected["seq"] >= every:
        assert captured is not None
        assert captured[0] <= expected["seq"]
        assert restored._capturer.seq == captured[0]  # restored from the capture, not replayed
        # The tail is replayed without validating it again: to the live owner's derived state too.
        assert derived(restored) == live_derived
    await restored.stop()
    await replayed.stop()


async def test_a_forked_capture_restores_the_live_table_and_it_keeps_taking_operations(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite3")
    await store.open()
    await stored(store)
    config = test_settings(capture_every=20, capture_fork=True)
    live = await owner_of(store, config)
    rng = random.Random(7)
    await work(live, rng, 60)
    await live._capturer.wait()
    expected = state(live)
    await live.stop()
    saved = await store.load_capture("t")
    assert saved is not None
    assert saved[1].startswith(MAGIC)
    restored = await owner_of(store, config)
    assert state(restored) == expected
    await work(restored, rng, 20)  # the restored central client and sequencer go on as the live ones
    assert restored.seq > expected["seq"]
    await restored.stop()
    await store.close()


async def test_a_capture_signed_with_another_secret_is_refused_and_the_log_replayed() -> None:
    store, expected = await worked_and_stopped(test_settings(capture_every=5, capture_fork=False), 3, 30)
    assert await store.load_capture("t") is not None
    other = test_settings(capture_every=5, capture_fork=False, secret="another-secret-0123456789")
    restored = await owner_of(store, other)
    assert state(restored)["table"] == expected["table"]
    assert restored.seq == expected["seq"]
    await restored.stop()


async def test_a_damaged_capture_is_refused_and_the_log_replayed() -> None:
    config = test_settings(capture_every=5, capture_fork=False)
    store, expected = await worked_and_stopped(config, 5, 30)
    saved = await store.load_capture("t")
    assert saved is not None
    seq, blob = saved
    await store.save_capture("t", seq, blob[:-10] + b"0123456789")
    restored = await owner_of(store, config)
    assert state(restored)["table"] == expected["table"]
    await restored.stop()


class HeldFirstCapture:
    """A store whose first capture write waits until released: a capture in flight at unload."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.held = asyncio.Event()
        self.writes: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def save_capture(self, table_id: str, seq: int, blob: bytes) -> None:
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        await self.inner.save_capture(table_id, seq, blob)
        self.writes.append(seq)


async def owner_with_a_capture_in_flight(rng: random.Random) -> tuple[TableOwner, HeldFirstCapture]:
    """A live owner whose first periodic capture is being written (held until released)."""
    inner = MemoryStore()
    await inner.open()
    await stored(inner)
    store = HeldFirstCapture(inner)
    owner = await owner_of(store, test_settings(capture_every=5, capture_fork=False))  # type: ignore[arg-type]  # duck-typed store
    while not store.held.is_set():
        await work(owner, rng, 1)
    return owner, store


async def test_an_unload_during_a_capture_in_flight_leaves_the_newest_capture_stored() -> None:
    rng = random.Random(11)
    owner, store = await owner_with_a_capture_in_flight(rng)
    await work(owner, rng, 3)  # the table moves on past the capture in flight
    in_flight = owner._capturer._task
    assert in_flight is not None
    unloading = asyncio.create_task(owner.unload())
    await asyncio.sleep(0.05)
    store.release.set()
    await unloading
    await asyncio.wait((in_flight,))
    saved = await store.inner.load_capture("t")
    assert saved is not None
    assert saved[0] == owner.seq  # an older capture landing last would have replaced it
    assert store.writes == sorted(store.writes)


async def test_a_final_capture_cancelled_while_it_waits_ends_cancelled_and_spares_the_one_in_flight() -> None:
    owner, store = await owner_with_a_capture_in_flight(random.Random(12))
    in_flight = owner._capturer._task
    assert in_flight is not None
    owner._capturer.start_final()
    final = owner._capturer._task
    assert final is not None
    assert final is not in_flight
    await asyncio.sleep(0)
    final.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await final
    assert final.cancelled()
    assert not in_flight.done()  # the earlier capture was not cancelled with it
    store.release.set()
    await in_flight
    assert len(store.writes) == 1  # the cancelled final capture wrote nothing afterwards
    await owner.stop()


async def test_a_restored_owner_catches_its_estimator_up_in_the_background_while_it_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "CATCH_UP_DELAY", 0.01)
    monkeypatch.setattr(recovery, "CATCH_UP_CHUNK", 2)
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await worked_and_stopped(config, 21, 60)
    live_derived = expected.pop("derived")
    saved = await store.load_capture("t")
    assert saved is not None
    assert saved[0] < expected["seq"]  # a log tail after the capture
    restored = await owner_of(store, config)
    assert restored.estimator.deferred > 0  # the tail's estimator work waits
    assert restored.table.fingerprint() == expected["table"]  # while the table serves
    for _ in range(200):
        if not restored.estimator.deferred:
            break
        await asyncio.sleep(0.01)
    assert restored.estimator.deferred == 0  # caught up without anyone reading the estimates
    assert derived(restored) == live_derived
    await restored.stop()


async def upvoted_after_a_capture(config: Settings) -> tuple[MemoryStore, dict[str, Any]]:
    """A table worked until its first capture, then given upvotes only (which the estimator can
    defer) and stopped: the store and the state the owner ended in (``derived`` among it)."""
    store = MemoryStore()
    await store.open()
    await stored(store)
    live = await owner_of(store, config)
    rng = random.Random(8)
    while live._capturer.seq == 0 or not any(len(row.values) == 3 for row in live.table.rows()):
        await work(live, rng, 1)
        await live._capturer.wait()
    captured = live._capturer.seq
    complete = [row for row in live.table.rows() if len(row.values) == 3]
    for worker in ("u1", "u2", "u3"):
        await live.submit(Upvote(worker, complete[0].row_id, frozenset()))
    assert live.seq > captured
    assert live.seq - captured < config.capture_every  # no capture after the upvotes
    expected = state(live)
    expected["derived"] = derived(live)
    await live.stop()
    return store, expected


async def test_a_restored_estimator_is_loaded_only_once_needed_and_is_then_the_live_ones() -> None:
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    live_derived = expected.pop("derived")
    restored = await owner_of(store, config)
    # The tail's upvotes were deferred: the table serves with its estimator still to be loaded.
    assert not restored.estimator.arrived
    assert restored.estimator.deferred == 3
    assert restored.table.fingerprint() == expected["table"]
    assert restored.central.matching() == live_derived["matching"]
    assert derived(restored) == live_derived  # reading the estimates loads it first
    assert restored.estimator.arrived
    assert state(restored) == expected
    await restored.stop()


async def test_a_restored_table_loads_its_estimator_in_the_background_when_nobody_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "CATCH_UP_DELAY", 0.01)
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    live_derived = expected.pop("derived")
    restored = await owner_of(store, config)
    assert not restored.estimator.arrived
    assert await caught_up_in_the_background(restored)
    assert restored.estimator.arrived
    assert restored.estimator.deferred == 0
    assert derived(restored) == live_derived
    await restored.stop()


async def test_a_capture_whose_estimator_does_not_load_is_refused_and_the_table_rebuilt_from_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    saved = await store.load_capture("t")
    assert saved is not None
    restored = await owner_of(store, config)

    def damaged() -> tuple[Any, ...]:
        raise CaptureRefused("damaged")

    # What a second pickle that does not load would do (the first one loaded).
    restored.estimator._loader = functools.partial(recovery._arriving_estimator, restored, saved[0], damaged)
    with pytest.raises(CaptureRefused):
        restored.estimator.estimate("u1")
    assert "does not load" in caplog.text
    # The next operation rebuilds the table from its log, without the capture.
    complete = [row for row in restored.table.rows() if len(row.values) == 3]
    outcome = await restored.submit(Upvote("u4", complete[0].row_id, frozenset()))
    assert outcome.failure is None
    replayed = await owner_of(NoCapture(store), config)
    assert state(restored) == state(replayed)
    assert restored.seq == expected["seq"] + 1
    await restored.stop()
    await replayed.stop()


async def caught_up_in_the_background(owner: TableOwner) -> bool:
    """Whether the owner's estimator arrives and catches up within two seconds, nobody reading it."""
    for _ in range(200):
        if owner.estimator.arrived and not owner.estimator.deferred:
            return True
        await asyncio.sleep(0.01)
    return False


def a_complete_row(owner: TableOwner) -> str:
    return next(row.row_id for row in owner.table.rows() if len(row.values) == 3)


@pytest.mark.parametrize("rebuild", ["after a storage failure", "at a takeover"])
async def test_an_owner_restored_again_catches_its_estimator_up_in_the_background_again(
    monkeypatch: pytest.MonkeyPatch, rebuild: str
) -> None:
    monkeypatch.setattr(recovery, "CATCH_UP_DELAY", 0.01)
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    live_derived = expected.pop("derived")
    failing = FailNextAppend(store)
    restored = await owner_of(failing, config)  # type: ignore[arg-type]  # duck-typed store
    assert await caught_up_in_the_background(restored)
    if rebuild == "after a storage failure":
        failing.fail_next = True
        outcome = await restored.submit(Upvote("u4", a_complete_row(restored), frozenset()))
        assert outcome.failure is not None
        assert outcome.failure.code == "store_unavailable"
    else:
        await restored.lead(epoch=1)
    # Restored from the capture and its log tail again: the tail's estimator work waits again.
    assert not restored.estimator.arrived
    assert restored.estimator.deferred == 3
    assert await caught_up_in_the_background(restored)
    assert derived(restored) == live_derived
    await restored.stop()


def failing_catch_ups(monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """The next ``times`` deferred operations the estimator works are refused (as a log that does
    not explain the table would be)."""
    apply = Estimator._apply
    left = [times]

    def refused(self: Estimator, deferred: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise LogMismatch("a deferred Upvote touches [], not the key it was noted with")
        apply(self, deferred)

    monkeypatch.setattr(Estimator, "_apply", refused)


async def test_a_background_catch_up_that_fails_is_logged_and_the_next_read_works_what_failed_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(recovery, "CATCH_UP_DELAY", 0.01)
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    live_derived = expected.pop("derived")
    saved = await store.load_capture("t")
    assert saved is not None
    restored = await owner_of(store, config)
    failing_catch_ups(monkeypatch, times=1)  # a passing fault
    task = restored._capturer._catching_up
    assert task is not None
    await asyncio.wait((task,))
    await asyncio.sleep(0)  # its done callback
    failed = [
        r for r in caplog.records if r.levelname == "ERROR" and "catching the estimator up" in r.message
    ]
    assert len(failed) == 1
    assert "table t:" in failed[0].message
    assert failed[0].exc_info is not None
    assert restored.estimator.deferred == 3  # what failed is still to be worked
    assert derived(restored) == live_derived  # a read works it, to the live owner's estimator
    # As a second pickle that does not load: the capture is refused and the next batch rebuilds
    # the table from its log.
    assert restored._capturer.refused == saved[0]
    outcome = await restored.submit(Upvote("u4", a_complete_row(restored), frozenset()))
    assert outcome.failure is None
    replayed = await owner_of(NoCapture(store), config)
    assert state(restored) == state(replayed)
    await restored.stop()
    await replayed.stop()


async def test_a_background_catch_up_that_keeps_failing_fails_the_reads_until_the_log_rebuilds_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "CATCH_UP_DELAY", 0.01)
    config = test_settings(capture_every=25, capture_fork=False)
    store, expected = await upvoted_after_a_capture(config)
    restored = await owner_of(store, config)
    failing_catch_ups(monkeypatch, times=1_000)
    task = restored._capturer._catching_up
    assert task is not None
    await asyncio.wait((task,))
    await asyncio.sleep(0)
    for _ in range(4):  # more reads than there are deferred operations
        with pytest.raises(LogMismatch):
            restored.estimator.estimate("u1")
        assert restored.estimator.deferred == 3
    outcome = await restored.submit(Upvote("u4", a_complete_row(restored), frozenset()))
    assert outcome.failure is None  # the rebuilt estimator worked the whole log at once
    assert restored.seq == expected["seq"] + 1
    replayed = await owner_of(NoCapture(store), config)
    assert state(restored) == state(replayed)
    await restored.stop()
    await replayed.stop()


async def test_stopping_a_restored_owner_ends_its_background_catch_up() -> None:
    config = test_settings(capture_every=25, capture_fork=False)
    store, _ = await upvoted_after_a_capture(config)
    restored = await owner_of(store, config)
    task = restored._capturer._catching_up
    assert task is not None
    assert not task.done()  # waiting out CATCH_UP_DELAY
    await restored.stop()
    assert task.cancelled()
