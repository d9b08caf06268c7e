"""Ties inside a key group are broken toward satisfying the template (crowdfill.model.ties)."""

from __future__ import annotations

from crowdfill.model import CandidateTable, Column, GroupKey, GroupRescored, Schema, Scoring, Template, Value
from crowdfill.model.snapshot import restore, snapshot
from tests.model.support import Builder, check_final_table

SCHEMA = Schema(
    (Column("team"), Column("captain", "boolean"), Column("number", "integer")),
    ("team",),
)
SCORING = Scoring()  # the paper's: u - d once there are two votes


def table_with(template_rows: list[dict[str, Value]]) -> tuple[CandidateTable, Builder]:
    table = CandidateTable(SCHEMA, SCORING, Template.define(SCHEMA, template_rows))
    return table, Builder(table)


def voted_row(builder: Builder, values: dict[str, Value], *voters: str) -> str:
    """A complete row filled by its first voter (whose fill upvotes it) and upvoted by the rest."""
    row_id = builder.row_with(voters[0], values)
    for worker in voters[1:]:
        builder.upvote(worker, row_id)
    return row_id


def test_a_tie_is_broken_toward_the_winner_that_serves_the_template() -> None:
    table, builder = table_with([{"captain": True}])
    # captain=False comes first in the canonical order, so it used to win the tie.
    voted_row(builder, {"team": "ajax", "captain": False, "number": 1}, "w1", "w2")
    serving = voted_row(builder, {"team": "ajax", "captain": True, "number": 1}, "w3", "w4")
    assert [row.row_id for row in table.final_table()] == [serving]
    check_final_table(table)


def test_a_tie_whose_winners_serve_the_same_template_rows_keeps_the_canonical_winner() -> None:
    table, builder = table_with([{"team": "ajax"}])
    first = voted_row(builder, {"team": "ajax", "captain": False, "number": 1}, "w1", "w2")
    voted_row(builder, {"team": "ajax", "captain": True, "number": 1}, "w3", "w4")
    assert [row.row_id for row in table.final_table()] == [first]
    assert len(table.final_choices(("key", ("ajax",)))) == 1


def test_an_ambiguous_group_gives_way_when_another_group_serves_what_it_served() -> None:
    table, builder = table_with([{"captain": True}, {"number": 1}])
    psv: GroupKey = ("key", ("psv",))
    captain = voted_row(builder, {"team": "psv", "captain": True, "number": 2}, "w1", "w2")
    number = voted_row(builder, {"team": "psv", "captain": False, "number": 1}, "w3", "w4")
    # Alone, psv serves the first template row it can: the captain one.
    final = table.final_row(psv)
    assert final is not None
    assert final.row_id == captain
    # Once ajax serves the captain row, psv is needed for number=1: a vote on ajax moves psv's
    # final row, and says so with a GroupRescored for psv although no psv row changed.
    ajax = builder.row_with("w5", {"team": "ajax", "captain": True, "number": 3})
    events = builder.upvote("w6", ajax)
    final = table.final_row(psv)
    assert final is not None
    assert final.row_id == number
    assert GroupRescored(psv) in events
    assert {row.row_id for row in table.final_table()} == {ajax, number}
    check_final_table(table)


def test_a_vote_that_ends_the_tie_ends_the_template_preference() -> None:
    table, builder = table_with([{"captain": True}])
    other = voted_row(builder, {"team": "ajax", "captain": False, "number": 1}, "w1", "w2")
    voted_row(builder, {"team": "ajax", "captain": True, "number": 1}, "w3", "w4")
    builder.upvote("w5", other)
    assert [row.row_id for row in table.final_table()] == [other]
    assert table.final_choices(("key", ("ajax",))) == [table.row(other).values]


def test_the_choice_is_the_same_in_any_order_and_after_a_snapshot() -> None:
    table, builder = table_with([{"captain": True}, {"number": 1}])
    voted_row(builder, {"team": "psv", "captain": True, "number": 2}, "w1", "w2")
    voted_row(builder, {"team": "psv", "captain": False, "number": 1}, "w3", "w4")
    voted_row(builder, {"team": "ajax", "captain": True, "number": 3}, "w5", "w6")
    expected = table.fingerprint()
    replica = CandidateTable(SCHEMA, SCORING, table.template)
    for op in reversed(builder.log):
        replica.integrate(op)
    assert replica.fingerprint() == expected
    copy = restore(SCHEMA, SCORING, table.template, snapshot(table))
    assert copy.fingerprint() == expected
    assert [row.row_id for row in copy.final_table()] == [row.row_id for row in table.final_table()]


def test_groups_that_changed_while_nothing_was_ambiguous_count_when_a_tie_returns() -> None:
    table, builder = table_with([{"captain": True}, {"number": 1}])
    psv: GroupKey = ("key", ("psv",))
    captain = voted_row(builder, {"team": "psv", "captain": True, "number": 2}, "w1", "w2")
    number = voted_row(builder, {"team": "psv", "captain": False, "number": 1}, "w3", "w4")
    builder.upvote("w5", captain)  # the tie is over
    assert table.ambiguous_groups() == []
    ajax = voted_row(builder, {"team": "ajax", "captain": True, "number": 3}, "w6", "w7")
    builder.upvote("w8", number)  # tied again, now with ajax serving the captain row
    assert table.ambiguous_groups() == [psv]
    assert {row.row_id for row in table.final_table()} == {ajax, number}
    fresh = CandidateTable(SCHEMA, SCORING, table.template)
    for op in builder.log:
        fresh.integrate(op)
    assert fresh.fingerprint() == table.fingerprint()
