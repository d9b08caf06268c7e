"""Closing a table settles it from the owner's running ledger: the same as settling its whole log."""

from __future__ import annotations

import random
from typing import Any

import pytest

from crowdfill.compensation import settle
from crowdfill.model import Downvote, Fill, Operation, Retract, Upvote
from crowdfill.server.owner import CLOSED, SETTLEMENT_KIND, TableOwner
from crowdfill.store import open_store
from crowdfill.store.port import Store
from tests.server.owner_support import QuietListener, launch_owner, logged_operations
from tests.support.live_server import test_settings

MANY_ROWS: dict[str, Any] = {
    "name": "Rivers",
    "instructions": "Rivers and where they flow.",
    "schema": {
        "columns": [{"name": "river"}, {"name": "country"}, {"name": "sea"}],
        "key": ["river"],
    },
    "scoring": {"family": "difference", "min_votes": 0},
    # The never row keeps the table live whatever the crowd does: only the requester closes it.
    "template": [{"river": "never"}, *({} for _ in range(8))],
    "budget_cents": 1234,
}
WORKERS = ("ann", "ben", "cal", "dee")


def random_operation(owner: TableOwner, rng: random.Random, serial: int) -> Operation:
    """Mostly fills of empty cells and upvotes of complete rows, some downvotes and retracts."""
    rows = [row for row in owner.table.rows() if dict(row.values).get("river") != "never"]
    complete = [row for row in rows if len(row.values) == 3]
    worker = rng.choice(WORKERS)
    kind = rng.random()
    if kind < 0.6 or not complete:
        row = rng.choice([row for row in rows if len(row.values) < 3] or rows)
        empty = [c for c in ("river", "country", "sea") if c not in dict(row.values)] or ["sea"]
        column = rng.choice(empty)
        return Fill(worker, row.row_id, f"f{serial}", column, f"{column}{rng.randrange(3)}", frozenset())
    row = rng.choice(complete)
    if kind < 0.88:
        return Upvote(worker, row.row_id, frozenset())
    if kind < 0.96:
        return Downvote(worker, row.row_id, frozenset())
    return Retract(worker, row.row_id)


async def play(owner: TableOwner, rng: random.Random, count: int, start: int = 0) -> None:
    for serial in range(start, start + count):
        await owner.submit(random_operation(owner, rng, serial))  # refusals are part of the game


async def reloaded(store: Store, owner: TableOwner) -> TableOwner:
    """The same table rebuilt from storage by a fresh owner, as after a restart."""
    await owner.stop()
    fresh = TableOwner(owner.table_id, owner.spec, owner.status, store, test_settings(), QuietListener())
    await fresh.load()
    return fresh


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("restart", [False, True])
async def test_closing_settles_as_settling_the_whole_log_does(seed: int, restart: bool) -> None:
    store = open_store("memory://")
    await store.open()
    rng = random.Random(seed)
    # Snapshots every few operations, so a restart takes the history from a snapshot and a tail.
    owner = await launch_owner(store, MANY_ROWS, settings=test_settings(snapshot_every=7))
    await play(owner, rng, 60)
    if restart:
        owner = await reloaded(store, owner)
        await play(owner, rng, 40, start=60)
    await owner.close()

    assert owner.status == CLOSED
    assert owner.settlement is not None
    log = [op for _, op in await logged_operations(store, owner.table_id)]
    expected = settle(owner.table, log, owner.spec.compensation, completed=False).to_dict()
    assert owner.settlement.to_dict() == expected
    assert await store.get_item(owner.table_id, SETTLEMENT_KIND, "final") == expected
    assert sum(expected["payments"].values()) > 0  # the game paid someone: the check has teeth
    finished = await reloaded(store, owner)
    assert finished.settlement is not None
    assert finished.settlement.to_dict() == expected
    await finished.stop()
    await store.close()


@pytest.mark.parametrize("fork", [True, False])
async def test_closing_keeps_a_capture_of_the_finished_table_and_no_snapshot_of_every_row(fork: bool) -> None:
    store = open_store("memory://")
    await store.open()
    settings = test_settings(snapshot_every=10_000, capture_fork=fork)
    owner = await launch_owner(store, MANY_ROWS, settings=settings)
    await play(owner, random.Random(7), 50)
    await owner.close()
    await owner._capturer.wait()  # taken in the background; the close did not wait for it

    assert await store.load_snapshot(owner.table_id) is None
    captured = await store.load_capture(owner.table_id)
    assert captured is not None
    assert captured[0] == owner.seq
    final_rows = [(row.row_id, row.values) for row in owner.table.final_table()]
    assert final_rows  # the game made final rows: the comparison has teeth
    await owner.stop()
    finished = TableOwner(owner.table_id, owner.spec, CLOSED, store, settings, QuietListener())
    await finished.load()
    assert finished._capturer.seq == owner.seq  # loaded from the final capture, no log replayed
    assert [(row.row_id, row.values) for row in finished.table.final_table()] == final_rows
    assert finished.table.closed
    assert finished.settlement is not None
    assert owner.settlement is not None
    assert finished.settlement.to_dict() == owner.settlement.to_dict()
    await finished.stop()
    await store.close()


async def test_with_captures_off_closing_snapshots_every_row_as_before() -> None:
    store = open_store("memory://")
    await store.open()
    settings = test_settings(snapshot_every=10_000, capture_every=0)
    owner = await launch_owner(store, MANY_ROWS, settings=settings)
    await play(owner, random.Random(8), 30)
    await owner.close()

    saved = await store.load_snapshot(owner.table_id)
    assert saved is not None
    assert saved[0] == owner.seq
    assert await store.load_capture(owner.table_id) is None
    await owner.stop()
    await store.close()
