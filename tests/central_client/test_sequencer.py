"""The sequencer and the replay the server, recovery and the audit share."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from crowdfill.central_client import CentralClient
from crowdfill.central_client.sequencer import Replayed, Sequencer, replay
from crowdfill.model import (
    CENTRAL_CLIENT,
    CandidateTable,
    Column,
    Downvote,
    Fill,
    Insert,
    Operation,
    Reweigh,
    Schema,
    Scoring,
    Sequenced,
    Template,
    Upvote,
)
from crowdfill.model.errors import UnknownRow

SCHEMA = Schema((Column("country"), Column("capital")), ("country",))


def fresh_table(template_rows: int = 2) -> CandidateTable:
    return CandidateTable(SCHEMA, Scoring("difference"), Template.define(SCHEMA, [{}] * template_rows))


def sequencer_for(table: CandidateTable) -> Sequencer:
    counter = itertools.count(1)
    return Sequencer(table, CentralClient(table, lambda: f"c{next(counter)}", close_when_satisfied=False))


def live_log(
    worker_ops: Sequence[Sequenced], template_rows: int = 2, *, split: bool = False
) -> list[tuple[int, Sequenced]]:
    """The log the server would write: each operation followed by the inserts it calls for
    (``split``: each worker operation admitted, logged, then settled, as the server forwards it)."""
    sequencer = sequencer_for(fresh_table(template_rows))
    log: list[Sequenced] = []

    def drain() -> None:
        while not sequencer.satisfied and (insert := sequencer.next_insert()) is not None:
            log.append(sequencer.apply(insert))

    sequencer.start()
    drain()
    for op in worker_ops:
        if sequencer.satisfied:
            break
        if split:
            canonical = sequencer.admit(op)
            log.append(canonical)
            sequencer.settle(canonical)
        else:
            log.append(sequencer.apply(op))
        drain()
    return list(enumerate(log, 1))


def replay_fresh(log: list[tuple[int, Sequenced]]) -> Replayed:
    return replay(sequencer_for(fresh_table()), log)


WORK: list[Operation] = [
    Fill("ann", "c1", "r1", "country", "fr", frozenset()),
    Fill("ann", "r1", "r2", "capital", "paris", frozenset()),
    Fill("bob", "c2", "r3", "country", "es", frozenset()),
    Fill("bob", "r3", "r4", "capital", "madrid", frozenset()),
]


def test_a_log_sequenced_one_operation_at_a_time_replays_without_divergence() -> None:
    log = live_log(WORK)
    result = replay_fresh(log)
    assert result.divergences == ()
    assert result.completion_seq == log[-1][0]


def test_a_reweigh_that_silences_a_downvoter_can_complete_the_table_and_replays_to_the_same_seq() -> None:
    # Both template rows need a final row; cy's downvote holds Madrid at 0 until cy is excluded.
    work: list[Sequenced] = [*WORK[:3], Downvote("cy", "r3", frozenset()), WORK[3]]
    before = live_log(work)
    assert replay_fresh(before).completion_seq is None
    log = live_log([*work, Reweigh("cy", 0.0, 1, excluded=True)])
    assert isinstance(log[-1][1], Reweigh)
    result = replay_fresh(log)
    assert result.divergences == ()
    assert result.completion_seq == log[-1][0]


def test_operations_after_the_completing_one_are_reported_and_not_applied() -> None:
    log = live_log(WORK)
    after = (log[-1][0] + 1, Downvote("cy", "r4", frozenset()))
    table = fresh_table()
    result = replay(sequencer_for(table), [*log, after])
    assert result.completion_seq == log[-1][0]
    assert result.ignored == (after[0],)
    assert any("after the table completed" in d for d in result.divergences)
    assert table.down("r4") == 0


def rows_of(table: CandidateTable) -> list[tuple[str, dict[str, str | int | float | bool], int]]:
    return [
        (row.row_id, dict(row.values), table.up(row.row_id) - table.down(row.row_id)) for row in table.rows()
    ]


def test_admitting_an_operation_changes_nothing_until_it_is_settled() -> None:
    table = fresh_table()
    sequencer = sequencer_for(table)
    sequencer.start()
    while (insert := sequencer.next_insert()) is not None:
        sequencer.apply(insert)
    before = rows_of(table)

    canonical = sequencer.admit(WORK[0])

    assert rows_of(table) == before
    assert "r1" not in table
    sequencer.settle(canonical)
    assert "r1" in table
    assert "c1" not in table


def test_an_operation_admit_refuses_leaves_the_table_as_it_was() -> None:
    table = fresh_table()
    sequencer = sequencer_for(table)
    sequencer.start()
    before = rows_of(table)
    with pytest.raises(UnknownRow):
        sequencer.admit(Fill("ann", "nowhere", "r9", "country", "fr", frozenset()))
    assert rows_of(table) == before


def test_admit_then_settle_sequences_the_same_log_as_apply() -> None:
    # Downvotes make the central client plan inserts between the workers' operations.
    work: list[Sequenced] = [*WORK[:3], Downvote("cy", "r3", frozenset()), Downvote("dee", "r3", frozenset())]
    by_apply = live_log(work)
    assert live_log(work, split=True) == by_apply
    assert any(isinstance(op, Insert) for _, op in by_apply[3:])


def test_an_operation_the_model_refuses_is_reported_and_skipped() -> None:
    log = live_log(WORK[:2])
    bad = (log[-1][0] + 1, Upvote("ann", "r2", frozenset()))  # ann's fill already upvoted r2
    table = fresh_table()
    result = replay(sequencer_for(table), [*log, bad])
    assert [seq for seq, _ in result.applied] == [seq for seq, _ in log]
    assert any("duplicate_vote" in d for d in result.divergences)


def test_an_insert_the_central_client_would_not_make_is_reported() -> None:
    log = live_log(WORK[:2])
    forged = (log[-1][0] + 1, Insert("x9", frozenset({("country", "fr")}), CENTRAL_CLIENT))
    result = replay_fresh([*log, forged])
    assert any("would not insert row 'x9'" in d for d in result.divergences)


def test_a_missing_insert_is_reported() -> None:
    log = live_log(WORK[:2])
    without_first_insert = [
        (seq, op) for seq, op in log if not (isinstance(op, Insert) and op.row_id == "c2")
    ]
    assert replay_fresh(log).divergences == ()
    assert any("missing before this operation" in d for d in replay_fresh(without_first_insert).divergences)


def test_replaying_a_long_log_leaves_nothing_pending_in_the_central_client_at_any_step() -> None:
    # Two downvotes turn each filled row red, so the central client inserts a row for it again: it
    # plans inserts all along. A replay that did not settle each plan with its logged insert would
    # keep every one of them pending (and look through them at every operation).
    work: list[Sequenced] = []
    for n in range(30):
        work.append(Fill(f"w{n}", f"c{n + 1}", f"r{n}", "country", f"k{n}", frozenset()))
        work.extend(Downvote(voter, f"r{n}", frozenset()) for voter in ("x", "y"))
    log = live_log(work, template_rows=40)
    inserts = sum(isinstance(op, Insert) for _, op in log)
    assert inserts == 40 + 30
    sequencer = sequencer_for(fresh_table(40))
    pending: list[int] = []

    def after(seq: int, op: Sequenced) -> None:
        pending.append(len(sequencer.central.pending_inserts()))

    result = replay(sequencer, log, on_applied=after)
    assert result.divergences == ()
    assert len(pending) == len(log)
    assert pending[:40] == list(range(39, -1, -1))  # the launch's 40 inserts, one settled at a time
    assert max(pending[40:]) <= 1  # what the last operation called for, until its insert follows
    assert sequencer.central.pending_inserts() == []
