"""Retract (issue 13, point 4): a worker takes back their own vote record, with a tombstone."""

from __future__ import annotations

import random

import pytest

from crowdfill.model import (
    CandidateTable,
    CrowdFillError,
    Downvote,
    GroupRescored,
    MalformedMessage,
    NoVoteToRetract,
    Retract,
    RetractedVoteRecast,
    Status,
    UnknownRow,
    Upvote,
    ValueMismatch,
    Values,
    VoteRetracted,
)
from tests.model.support import MESSI, NEYMAR, Builder, recount, soccer_table, values


def messi_table() -> tuple[CandidateTable, Builder, str]:
    """Messi filled by w1 (who thereby upvotes it) and upvoted by w2: green, +2."""
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", MESSI)
    build.upvote("w2", row)
    return table, build, row


def test_a_retract_removes_the_workers_upvote_and_the_counts_drop() -> None:
    table, build, row = messi_table()
    assert table.final_table() == [table.row(row)]

    events = build.apply(Retract("w2", row))

    assert events[0] == VoteRetracted("w2", "up", values(MESSI), row)
    assert GroupRescored(table.group_of(row)) in events
    assert (table.up(row), table.down(row)) == (1, 0)
    assert table.upvoters(row) == {"w1"}
    assert table.status(row) is Status.BLUE  # the default scoring needs two votes
    assert table.final_table() == []
    assert ("w2", "up", values(MESSI)) not in table.vote_records()


def test_validate_names_the_sign_and_values_of_the_retracted_record() -> None:
    table, _, row = messi_table()
    assert table.validate(Retract("w2", row)) == Retract("w2", row, values(MESSI), "up")
    build = Builder(table, prefix="x")
    neymar = build.row_with("w3", NEYMAR)
    build.downvote("w4", neymar)
    assert table.validate(Retract("w4", neymar)) == Retract("w4", neymar, values(NEYMAR), "down")


def test_the_completing_fills_automatic_upvote_can_be_retracted() -> None:
    table, build, row = messi_table()
    build.apply(Retract("w1", row))
    assert table.upvoters(row) == {"w2"}


def test_a_retract_that_arrives_before_its_vote_still_wins() -> None:
    table, build, row = messi_table()
    build.apply(Retract("w2", row))
    replica = CandidateTable(table.schema, table.scoring, table.template)
    for op in reversed(build.log):
        replica.integrate(op)
    assert replica.fingerprint() == table.fingerprint()
    assert replica.upvoters(row) == {"w1"}


def test_the_same_operations_in_shuffled_orders_give_the_same_table() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)
    completed = build.fill_all("w3", neymar, {"position": "FW", "caps": 128, "goals": 79})
    build.apply(Retract("w2", neymar))
    build.upvote("w2", completed)  # the other sign, on the completion
    expected = table.fingerprint()
    rng = random.Random(13)
    for _ in range(300):
        order = rng.sample(build.log, len(build.log))
        replica = CandidateTable(table.schema, table.scoring, table.template)
        for op in order:
            replica.integrate(op)
        assert replica.fingerprint() == expected


def test_applying_a_retract_twice_changes_nothing() -> None:
    table, _, row = messi_table()
    retract = table.validate(Retract("w2", row))
    table.integrate(retract)
    before = table.fingerprint()
    assert table.integrate(retract) == []
    assert table.fingerprint() == before


def test_a_retracted_vote_cannot_be_cast_again_with_the_same_sign() -> None:
    table, build, row = messi_table()
    build.apply(Retract("w2", row))
    before = table.fingerprint()
    with pytest.raises(RetractedVoteRecast) as raised:
        table.apply(Upvote("w2", row, frozenset()))
    assert raised.value.code == "vote_retracted"
    assert "took back your upvote" in raised.value.message
    assert table.fingerprint() == before


def test_a_retracted_vote_may_be_cast_with_the_other_sign() -> None:
    table = soccer_table()
    build = Builder(table)
    row = build.row_with("w1", MESSI)
    build.upvote("w2", row)
    build.upvote("w3", row)
    build.apply(Retract("w2", row))
    build.downvote("w2", row)
    assert (table.up(row), table.down(row)) == (2, 1)
    assert recount(table)[row] == (2, 1)
    build.apply(Retract("w2", row))  # and take that one back too
    assert (table.up(row), table.down(row)) == (2, 0)


def test_a_vote_record_matching_a_tombstone_is_ignored_even_when_integrated_later() -> None:
    table, build, row = messi_table()
    upvote = build.log[-1]
    build.apply(Retract("w2", row))
    before = table.fingerprint()
    assert table.integrate(upvote) == []
    assert table.fingerprint() == before


def test_retracting_a_downvote_on_a_part_shrinks_d_of_every_row_containing_it() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)
    completed = build.fill_all("w3", neymar, {"position": "FW", "caps": 128, "goals": 79})
    elsewhere = build.row_with("w4", {**NEYMAR, "position": "MF"})
    assert (table.down(completed), table.down(elsewhere)) == (1, 1)

    # The downvoted row itself was replaced: the retract names it all the same.
    events = build.apply(Retract("w2", neymar))

    assert (table.down(completed), table.down(elsewhere)) == (0, 0)
    assert {GroupRescored(table.group_of(completed)), GroupRescored(table.group_of(elsewhere))} <= set(events)
    assert recount(table) == {r.row_id: (table.up(r.row_id), table.down(r.row_id)) for r in table.rows()}
    assert not table.worker_counted("w2", table.row(completed).values)


def test_a_worker_counted_through_two_downvotes_still_counts_after_retracting_one() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)  # {name, nationality}
    partial = build.row_with("w1", {"name": "Neymar", "position": "FW"})
    # Concurrent with the fills below: w2 downvotes a part too, before seeing the merged row.
    build.downvote("w2", partial)
    merged = build.fill_all("w3", neymar, {"position": "FW", "caps": 128, "goals": 79})
    assert table.downvoters(merged) == {"w2"}
    build.apply(Retract("w2", neymar))
    assert table.downvoters(merged) == {"w2"}  # still counted through {name, position}
    build.apply(Retract("w2", partial))
    assert table.downvoters(merged) == frozenset()


def test_a_downvote_counted_through_a_part_is_retracted_on_the_parts_row_not_the_superset() -> None:
    table = soccer_table()
    build = Builder(table)
    neymar = build.row_with("w1", NEYMAR)
    build.downvote("w2", neymar)
    completed = build.fill("w3", neymar, "position", "FW")
    before = table.fingerprint()
    with pytest.raises(NoVoteToRetract) as raised:
        table.apply(Retract("w2", completed))
    assert raised.value.code == "no_vote_to_retract"
    assert "belongs to the row you downvoted" in raised.value.message
    assert table.fingerprint() == before


@pytest.mark.parametrize(
    ("worker", "row_id", "given", "error"),
    [
        ("w3", None, frozenset(), NoVoteToRetract),  # w3 never voted on the row
        ("w2", "no-such-row", frozenset(), UnknownRow),
        ("w2", None, values(NEYMAR), ValueMismatch),
    ],
)
def test_a_retract_without_a_standing_vote_is_refused_and_changes_nothing(
    worker: str, row_id: str | None, given: Values, error: type[CrowdFillError]
) -> None:
    table, _, row = messi_table()
    before = table.fingerprint()
    with pytest.raises(error) as raised:
        table.apply(Retract(worker, row_id or row, given))
    assert raised.value.message
    assert table.fingerprint() == before


def test_a_retract_of_the_sign_the_worker_did_not_cast_is_refused() -> None:
    table, _, row = messi_table()
    with pytest.raises(NoVoteToRetract):
        table.apply(Retract("w2", row, kind="down"))


def test_a_second_retract_of_the_same_vote_is_refused_as_having_no_vote() -> None:
    table, build, row = messi_table()
    build.apply(Retract("w2", row))
    with pytest.raises(NoVoteToRetract):
        table.apply(Retract("w2", row))


def test_an_unvalidated_retract_without_its_sign_cannot_be_integrated() -> None:
    table, _, row = messi_table()
    with pytest.raises(MalformedMessage):
        table.integrate(Retract("w2", row))


def test_a_retract_before_its_vote_on_a_replica_leaves_a_tombstone_and_no_count() -> None:
    table, _, row = messi_table()
    replica = CandidateTable(table.schema, table.scoring, table.template)
    replica.integrate(Retract("w2", row, values(MESSI), "up"))
    assert replica.retractions() == [("w2", "up", values(MESSI))]
    assert replica.integrate(Upvote("w2", row, values(MESSI))) == []
    assert replica.vote_records() == []
    assert replica.integrate(Downvote("w2", row, values(MESSI)))  # the other sign is not covered
