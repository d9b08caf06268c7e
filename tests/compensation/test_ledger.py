"""The ledger's vote records per key and its one record per row."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation import LogMismatch
from crowdfill.compensation.ledger import Ledger, votes
from crowdfill.model import Downvote, Fill, Insert, Operation, Retract, Upvote
from crowdfill.model.members import LIMIT
from crowdfill.model.operations import CENTRAL_CLIENT
from crowdfill.model.values import Values
from tests.compensation.histories import SCHEMA, History, histories

ROW: Values = frozenset({("k1", "x"), ("k2", "p"), ("v1", 1), ("v2", True)})


def test_a_much_voted_key_keeps_every_vote_in_log_order_past_the_small_limit_and_after_a_retract() -> None:
    workers = [f"w{i:02}" for i in range(2 * LIMIT)]
    log: list[Operation] = [Insert("r1", ROW)]
    log += [Upvote(w, "r1", ROW) for w in workers]
    log += [Downvote(w, "r1", ROW) for w in workers]
    log += [Retract(workers[3], "r1", ROW, "up"), Retract(workers[LIMIT + 1], "r1", ROW, "down")]
    ledger = Ledger.of(SCHEMA, log)
    key = SCHEMA.key_of(ROW)
    assert key is not None
    assert [w for w, _ in votes(ledger.ups[key])] == [w for w in workers if w != workers[3]]
    assert [w for w, _ in votes(ledger.downs[key])] == [w for w in workers if w != workers[LIMIT + 1]]
    assert all(values == ROW for _, values in votes(ledger.ups[key]))
    assert set(ledger.explicit_up[ROW]) == set(workers) - {workers[3]}
    # The vote records are keyed with the key order's own key object (an equal tuple each was a copy).
    assert next(iter(ledger.ups)) is next(iter(ledger.key_order))
    assert next(iter(ledger.downs)) is next(iter(ledger.key_order))


class _RowFacts:
    """A direct reading of the log's row facts, one dict each (the ledger's layout before its
    one-record-per-row form): the reference its answers are checked against."""

    def __init__(self, log: list[Operation]) -> None:
        self.values: dict[str, Values] = {}
        self.made_by: dict[str, tuple[str | None, str | None, str | None]] = {}
        replaced: set[str] = set()
        for op in log:
            if isinstance(op, Insert) and op.row_id not in self.values:
                self.values[op.row_id] = op.values
                self.made_by[op.row_id] = (None, None, None)
            elif isinstance(op, Fill):
                parent = self.values.get(op.row_id)
                values = op.values or (None if parent is None else parent | {(op.column, op.value)})
                if values is None:
                    values = frozenset({(op.column, op.value)})
                if op.new_row_id not in self.values:
                    self.values[op.new_row_id] = values
                    self.made_by[op.new_row_id] = (
                        op.row_id if parent is not None else None,
                        op.column,
                        op.worker,
                    )
                if parent is not None:
                    replaced.add(op.row_id)
        self.live = len(self.values) - len(replaced)

    def fillers(self, row_id: str) -> dict[str, str | None]:
        entered: dict[str, str | None] = {column: None for column, _ in self.values[row_id]}
        current: str | None = row_id
        while current is not None:
            parent, column, worker = self.made_by[current]
            if column in entered and worker != CENTRAL_CLIENT:
                entered[column] = worker
            current = parent
        return entered


def _assert_answers_like_the_reference(ledger: Ledger, log: list[Operation]) -> None:
    reference = _RowFacts(log)
    assert ledger.live == reference.live
    assert list(ledger.rows) == list(reference.values)
    for row_id, values in reference.values.items():
        assert ledger.knows(row_id)
        assert ledger.values_of(row_id) == values
        assert ledger.fillers(row_id) == reference.fillers(row_id)
    assert ledger.values_of("never-made") is None
    assert not ledger.knows("never-made")


@settings(max_examples=150, deadline=None)
@given(histories())
def test_the_one_record_per_row_answers_like_a_direct_reading_of_the_log(history: History) -> None:
    _assert_answers_like_the_reference(Ledger.of(SCHEMA, history.log), history.log)


@settings(max_examples=150, deadline=None)
@given(histories(), st.data())
def test_a_lenient_ledger_answers_like_a_direct_reading_of_a_log_with_repeats_and_orphan_fills(
    history: History, data: st.DataObject
) -> None:
    log = list(history.log)
    made = [op.new_row_id for op in log if isinstance(op, Fill)] + [
        op.row_id for op in log if isinstance(op, Insert)
    ]
    extra: list[Operation] = [Fill("ann", "ghost", "orphan", "v1", 1, frozenset())]
    if made:
        again = data.draw(st.sampled_from(made))
        extra += [
            Insert(again, frozenset({("k1", "x")})),
            Fill("ben", "ghost-2", again, "k2", "q", frozenset()),
        ]
        extra += [Fill("cal", data.draw(st.sampled_from(made)), again, "v2", True, frozenset())]
        central = Fill(CENTRAL_CLIENT, data.draw(st.sampled_from(made)), "by-central", "v1", 2, frozenset())
        log.append(central)  # a value the central client entered is nobody's
        log.append(Fill("dee", "by-central", "after-central", "k1", "y", frozenset()))
    for op in extra:
        log.insert(data.draw(st.integers(0, len(log))), op)
    _assert_answers_like_the_reference(Ledger.of(SCHEMA, log, strict=False), log)


def test_a_retract_that_does_not_name_its_sign_is_refused_and_leaves_the_ledger_as_it_was() -> None:
    ledger = Ledger.of(SCHEMA, [Insert("r1", ROW), Upvote("ann", "r1", ROW)])
    with pytest.raises(LogMismatch):
        ledger.record(Retract("bob", "r1", ROW))
    assert ledger.operations == 2
    assert list(ledger.workers) == ["ann"]
