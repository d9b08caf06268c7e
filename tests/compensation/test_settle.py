"""Settling a table: who is paid for what, on small hand-made histories."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from crowdfill.compensation import CompensationSettings, LogMismatch, settle
from crowdfill.compensation.unpaid import (
    CLOSED_EARLY_UNFILLED,
    EXCLUDED_WORKERS,
    NO_AGREEING_VOTERS,
    NO_CONTRIBUTIONS,
    ROUNDING,
    TEMPLATE_VALUES,
)
from crowdfill.model import (
    CENTRAL_CLIENT,
    CandidateTable,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Reweigh,
    Scoring,
    Template,
    Upvote,
    Value,
)
from crowdfill.model.examples import SOCCER_PLAYER

MESSI: dict[str, Value] = {
    "name": "Lionel Messi",
    "nationality": "Argentina",
    "position": "FW",
    "caps": 83,
    "goals": 37,
}
XAVI: dict[str, Value] = {"name": "Xavi", "nationality": "Spain", "position": "MF", "caps": 133, "goals": 13}


class Session:
    """A table and the canonical log of what it accepted."""

    def __init__(
        self, template: list[dict[str, object]] | None = None, scoring: Scoring | None = None
    ) -> None:
        self.table = CandidateTable(
            SOCCER_PLAYER, scoring or Scoring(), template=Template.define(SOCCER_PLAYER, template or [])
        )
        self.log: list[Operation] = []
        self._ids = 0

    def do(self, op: Operation) -> Operation:
        canonical = self.table.validate(op)
        self.table.integrate(canonical)
        self.log.append(canonical)
        return canonical

    def insert(self, values: dict[str, object] | None = None) -> str:
        self._ids += 1
        row_id = f"i{self._ids}"
        self.do(Insert(row_id, SOCCER_PLAYER.normalise_values(values or {})))
        return row_id

    def fill(self, worker: str, row_id: str, column: str, value: Value) -> str:
        self._ids += 1
        new_id = f"f{self._ids}"
        self.do(Fill(worker, row_id, new_id, column, value, frozenset()))
        return new_id

    def complete(self, row_id: str, values: dict[str, Value], workers: list[str]) -> str:
        """Fill the row's missing columns in schema order, by ``workers`` in turn."""
        present = dict(self.table.row(row_id).values)
        missing = [c for c in SOCCER_PLAYER.names if c not in present]
        for index, column in enumerate(missing):
            row_id = self.fill(workers[index % len(workers)], row_id, column, values[column])
        return row_id

    def up(self, worker: str, row_id: str) -> None:
        self.do(Upvote(worker, row_id, frozenset()))

    def down(self, worker: str, row_id: str) -> None:
        self.do(Downvote(worker, row_id, frozenset()))

    def settle(self, budget: int = 10_000, *, completed: bool = False, **kwargs: object) -> dict[str, int]:
        settings = CompensationSettings(budget, **kwargs)  # type: ignore[arg-type]  # test shorthand
        return settle(self.table, self.log, settings, completed=completed).payments


def test_a_row_completed_by_one_worker_and_confirmed_by_another_pays_both() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    # one final row: ann's five values earn 0.8 of the budget, ben's vote 0.2
    assert s.settle() == {"ann": 8000, "ben": 2000}


def test_template_values_earn_nothing_and_their_part_stays_with_the_requester() -> None:
    s = Session([{"nationality": "Argentina", "position": "FW"}])
    row = s.complete(s.insert({"nationality": "Argentina", "position": "FW"}), MESSI, ["ann"])
    s.up("ben", row)
    settlement = settle(s.table, s.log, CompensationSettings(10_000), completed=False)
    assert settlement.payments == {"ann": 4800, "ben": 2000}
    assert settlement.unpaid_cents == 3200


def test_with_no_final_row_nothing_is_paid_but_every_worker_is_listed() -> None:
    s = Session()
    s.complete(s.insert(), MESSI, ["ann", "ben"])  # blue: only the automatic upvote
    settlement = settle(s.table, s.log, CompensationSettings(10_000), completed=False)
    assert settlement.payments == {"ann": 0, "ben": 0}
    assert (settlement.paid_cents, settlement.unpaid_cents, settlement.rows) == (0, 10_000, ())


def test_the_central_client_is_never_paid_nor_listed() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    assert CENTRAL_CLIENT not in s.settle()


def test_the_completing_fillers_automatic_upvote_is_not_paid() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann", "ann", "ann", "ann", "cal"])
    s.up("ben", row)
    payments = s.settle()
    assert payments["cal"] == 1600  # one value, no vote pay
    assert payments["ben"] == 2000


def test_a_later_key_weighs_growth_times_more() -> None:
    s = Session()
    first = s.complete(s.insert(), MESSI, ["ann"])
    second = s.complete(s.insert(), XAVI, ["ben"])
    s.up("cal", first)
    s.up("cal", second)
    assert s.settle(3000, growth=2, vote_share=0) == {"ann": 1000, "ben": 2000, "cal": 0}


def test_the_order_is_when_the_key_first_appeared_not_when_the_row_was_completed() -> None:
    s = Session()
    early = s.fill("ann", s.fill("ann", s.insert(), "name", "Lionel Messi"), "nationality", "Argentina")
    late = s.complete(s.insert(), XAVI, ["ben"])  # Xavi's key appears after Messi's
    early = s.complete(early, MESSI, ["ann"])
    s.up("cal", early)
    s.up("cal", late)
    assert s.settle(3000, growth=2, vote_share=0) == {"ann": 1000, "ben": 2000, "cal": 0}


def test_identical_rows_pay_the_chain_that_entered_the_values_first() -> None:
    s = Session()
    base = s.insert()
    four = base
    for column in ("name", "nationality", "position", "caps"):
        four = s.fill("ann", four, column, MESSI[column])
    s.fill("ben", four, "goals", 37)  # first to complete
    s.fill("cal", four, "goals", 37)  # concurrent, identical values
    payments = s.settle(10_000, vote_share=0)
    assert payments == {"ann": 8000, "ben": 2000, "cal": 0}


def test_downvoting_a_rejected_rival_is_an_agreeing_vote() -> None:
    s = Session()
    right = s.complete(s.insert(), MESSI, ["ann"])
    wrong = s.complete(s.insert(), {**MESSI, "position": "MF"}, ["eve"])
    s.up("ben", right)
    s.up("cal", right)
    s.down("dee", wrong)
    payments = s.settle(9000, vote_share=1)
    assert payments == {"ann": 0, "ben": 3000, "cal": 3000, "dee": 3000, "eve": 0}


def test_a_retracted_vote_earns_nothing_and_only_standing_votes_share_the_vote_part() -> None:
    s = Session()
    right = s.complete(s.insert(), MESSI, ["ann"])
    wrong = s.complete(s.insert(), {**MESSI, "position": "MF"}, ["eve"])
    s.up("ben", right)
    s.up("cal", right)
    s.down("dee", wrong)
    s.do(Retract("cal", right))
    s.do(Retract("dee", wrong))
    payments = s.settle(9000, vote_share=1)
    assert payments == {"ann": 0, "ben": 9000, "cal": 0, "dee": 0, "eve": 0}


def test_a_retracted_upvote_of_a_rival_no_longer_counts_against_the_worker() -> None:
    s = Session()
    right = s.complete(s.insert(), MESSI, ["ann"])
    wrong = s.complete(s.insert(), {**MESSI, "position": "MF"}, ["eve"])
    s.up("ben", right)
    s.up("hedger", wrong)
    s.do(Retract("hedger", wrong))
    s.up("cal", right)
    s.down("hedger", wrong)  # the other sign, after the retract
    payments = s.settle(9000, vote_share=1)
    assert payments["hedger"] == payments["ben"] == payments["cal"] == 3000


def test_a_worker_who_votes_for_both_rivals_earns_nothing_for_votes() -> None:
    s = Session()
    right = s.complete(s.insert(), MESSI, ["ann"])
    wrong = s.complete(s.insert(), {**MESSI, "position": "MF"}, ["eve"])
    s.up("ben", right)
    s.up("hedger", right)
    s.up("hedger", wrong)
    s.up("cal", right)
    payments = s.settle(9000, vote_share=1)
    assert payments["hedger"] == 0
    assert payments["ben"] == payments["cal"] == 4500


def test_a_downvote_against_part_of_the_final_row_earns_nothing() -> None:
    s = Session()
    partial = s.fill("ann", s.fill("ann", s.insert(), "name", "Lionel Messi"), "nationality", "Argentina")
    s.down("critic", partial)
    final = s.complete(partial, MESSI, ["ann"])
    for voter in ("ben", "cal", "dee"):
        s.up(voter, final)
    assert s.table.final_table()[0].row_id == final
    assert s.settle(9000, vote_share=1) == {"ann": 0, "ben": 3000, "cal": 3000, "critic": 0, "dee": 3000}


def test_a_vote_share_of_zero_or_one_pays_only_fillers_or_only_voters() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    assert s.settle(777, vote_share=0) == {"ann": 777, "ben": 0}
    assert s.settle(777, vote_share=1) == {"ann": 0, "ben": 777}
    assert s.settle(0) == {"ann": 0, "ben": 0}


def test_the_settlement_is_json_able_and_explains_each_row() -> None:
    s = Session([{"position": "FW"}])
    row = s.complete(s.insert({"position": "FW"}), MESSI, ["ann", "ben"])
    s.up("cal", row)
    data = settle(s.table, s.log, CompensationSettings(1000), completed=False).to_dict()
    assert json.loads(json.dumps(data)) == data
    (only,) = data["rows"]
    assert only["row_id"] == row
    assert only["key"] == ["Lionel Messi", "Argentina"]
    assert [(f["column"], f["worker"]) for f in only["fills"]] == [
        ("name", "ann"),
        ("nationality", "ben"),
        ("position", None),
        ("caps", "ann"),
        ("goals", "ben"),
    ]
    assert only["voters"] == ["cal"]
    assert only["unpaid_cents"] == pytest.approx(160)
    assert data["payments"] == {"ann": 320, "ben": 320, "cal": 200}


def test_a_log_that_is_not_the_tables_history_is_refused() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    settings = CompensationSettings(100)
    with pytest.raises(LogMismatch, match="fills row"):
        settle(s.table, s.log[1:], settings, completed=False)
    with pytest.raises(LogMismatch, match="not made by any operation"):
        settle(s.table, s.log[:3], settings, completed=False)
    with pytest.raises(LogMismatch, match="live rows"):
        settle(Session().table, s.log, settings, completed=False)
    with pytest.raises(LogMismatch, match="second time"):
        settle(s.table, [s.log[0], *s.log], settings, completed=False)


def _messi_with_a_template_position(budget: int) -> tuple[Session, CompensationSettings]:
    s = Session([{"position": "FW"}])
    row = s.complete(s.insert({"position": "FW"}), MESSI, ["ann", "ben"])
    s.up("cal", row)
    return s, CompensationSettings(budget)


def test_a_completed_table_pays_its_whole_budget_template_values_included() -> None:
    s, chosen = _messi_with_a_template_position(1000)
    settlement = settle(s.table, s.log, chosen, completed=True)
    # ann and ben earned 320 each, cal 200; the template value's 160 is spread in proportion
    assert settlement.payments == {"ann": 381, "ben": 381, "cal": 238}
    assert settlement.paid_cents == 1000
    assert settlement.unpaid_cents == 0
    assert settlement.unpaid_reasons == {}
    assert settlement.exact_cents("cal") == Fraction(200 * 1000, 840)
    assert settlement.redistributed_cents == 160


def test_a_table_closed_early_keeps_the_template_values_under_their_reason() -> None:
    s, chosen = _messi_with_a_template_position(1000)
    settlement = settle(s.table, s.log, chosen, completed=False)
    assert settlement.payments == {"ann": 320, "ben": 320, "cal": 200}
    assert settlement.unpaid_reasons == {TEMPLATE_VALUES: 160}
    assert settlement.redistributed_cents == 0


def test_a_table_closed_early_keeps_the_shares_of_the_template_rows_it_lacks() -> None:
    s = Session([{"position": "FW"}, {}, {}])
    row = s.complete(s.insert({"position": "FW"}), MESSI, ["ann"])
    s.up("cal", row)
    settlement = settle(s.table, s.log, CompensationSettings(3000, growth=1), completed=False)
    # three template rows, one final row: the two missing rows keep their thirds of the budget
    assert settlement.payments == {"ann": 640, "cal": 200}
    assert settlement.unpaid_reasons == {CLOSED_EARLY_UNFILLED: 2000, TEMPLATE_VALUES: 160}


def test_a_row_without_agreeing_voters_closed_early_keeps_its_vote_part_and_completed_pays_it() -> None:
    s = Session(scoring=Scoring("threshold", min_votes=1))
    s.complete(s.insert(), MESSI, ["ann", "ben"])  # the completing fill's own upvote makes it final
    closed = settle(s.table, s.log, CompensationSettings(1001), completed=False)
    # ann 3 values, ben 2: 480.48 and 320.32 cents; the vote part 200.2 and 0.8 cent are lost
    assert closed.payments == {"ann": 480, "ben": 320}
    assert closed.unpaid_reasons == {NO_AGREEING_VOTERS: 200, ROUNDING: 1}
    completed = settle(s.table, s.log, CompensationSettings(1001), completed=True)
    assert completed.payments == {"ann": 601, "ben": 400}  # 600.6 and 400.4


def test_the_fraction_of_a_cent_an_early_close_loses_is_reported_as_rounding() -> None:
    s, _ = _messi_with_a_template_position(1001)
    settlement = settle(s.table, s.log, CompensationSettings(1001), completed=False)
    # 320.32 + 320.32 + 200.2 = 840.84 cents earned, 160.16 in template values
    assert settlement.payments == {"ann": 320, "ben": 320, "cal": 200}
    assert settlement.paid_cents == 840
    assert settlement.unpaid_reasons == {TEMPLATE_VALUES: 160, ROUNDING: 1}


def test_a_completed_table_without_any_worker_contribution_pays_nothing_and_says_why() -> None:
    s = Session()
    s.fill("ann", s.insert(), "name", "Xavi")  # a partial row: no final row, nothing earned
    settlement = settle(s.table, s.log, CompensationSettings(500), completed=True)
    assert settlement.payments == {"ann": 0}
    assert settlement.paid_cents == 0
    assert settlement.unpaid_reasons == {NO_CONTRIBUTIONS: 500}
    assert settle(s.table, s.log, CompensationSettings(500), completed=False).unpaid_reasons == {
        NO_CONTRIBUTIONS: 500
    }
    assert settle(s.table, s.log, CompensationSettings(0), completed=True).unpaid_reasons == {}


def test_a_one_cent_budget_on_a_completed_table_pays_that_cent() -> None:
    s, _ = _messi_with_a_template_position(1)
    settlement = settle(s.table, s.log, CompensationSettings(1), completed=True)
    # ann and ben have the same, larger share; the tie goes to the id that sorts first
    assert settlement.payments == {"ann": 1, "ben": 0, "cal": 0}
    assert settlement.paid_cents == 1
    closed = settle(s.table, s.log, CompensationSettings(1), completed=False)
    # 0.84 cent earned, 0.16 in template values: the cent is lost in rounding
    assert closed.paid_cents == 0
    assert closed.unpaid_reasons == {ROUNDING: 1}


def test_the_settlement_dict_says_how_the_table_ended_and_why_cents_are_unpaid() -> None:
    s, chosen = _messi_with_a_template_position(1000)
    completed = settle(s.table, s.log, chosen, completed=True).to_dict()
    assert (completed["completed"], completed["paid_cents"], completed["unpaid_reasons"]) == (True, 1000, {})
    assert completed["redistributed_cents"] == pytest.approx(160)
    assert completed["exact_cents"]["cal"] == pytest.approx(200 * 1000 / 840)
    closed = settle(s.table, s.log, chosen, completed=False).to_dict()
    assert (closed["completed"], closed["unpaid_cents"], closed["unpaid_reasons"]) == (
        False,
        160,
        {TEMPLATE_VALUES: 160},
    )


@pytest.mark.parametrize("completed", [True, False])
def test_an_excluded_workers_share_is_kept_back_not_redistributed_and_named(completed: bool) -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    s.up("cal", row)
    # The requester excludes ben (a reweigh in the server's log; the settlement reads the table).
    s.table.integrate(Reweigh("ben", 0.0, 1, excluded=True))
    assert [r.row_id for r in s.table.final_table()] == [row]  # ann's upvote and cal's still carry it
    settlement = settle(s.table, s.log, CompensationSettings(10_000), completed=completed)
    assert settlement.payments == {"ann": 8000, "ben": 0, "cal": 1000}
    assert settlement.unpaid_reasons == {EXCLUDED_WORKERS: 1000}
    assert settlement.excluded_workers == ("ben",)
    assert settlement.to_dict()["excluded_workers"] == ["ben"]


def test_undoing_an_exclusion_pays_the_worker_again() -> None:
    s = Session()
    row = s.complete(s.insert(), MESSI, ["ann"])
    s.up("ben", row)
    s.up("cal", row)
    s.table.integrate(Reweigh("ben", 0.0, 1, excluded=True))
    s.table.integrate(Reweigh("ben", 1.0, 2))
    settlement = settle(s.table, s.log, CompensationSettings(10_000), completed=True)
    assert settlement.payments == {"ann": 8000, "ben": 1000, "cal": 1000}
    assert settlement.unpaid_reasons == {}
    assert settlement.excluded_workers == ()


def test_the_json_rows_hold_the_exact_amounts_rounded_also_for_rows_whose_weight_rounds_to_zero() -> None:
    s = Session()
    for index in range(20):
        player = {**MESSI, "name": f"player {index}"}
        s.up("ben", s.complete(s.insert(), player, ["ann", "cal"]))
    # At g = 100 the row found 15 places before the last weighs 100**-15 < 2**-96: 0 in fixed point.
    settlement = settle(s.table, s.log, CompensationSettings(10_000, growth=100), completed=False)
    assert [row.weight == 0 for row in settlement.rows].count(True) == 5
    for share, row in zip(settlement.rows, settlement.to_dict()["rows"], strict=True):
        assert row["share_cents"] == round(float(settlement.row_cents(share)), 6)
        assert row["vote_cents_each"] == round(float(settlement.vote_cents_each(share)), 6)
        assert [fill["cents"] for fill in row["fills"]] == [
            round(float(settlement.fill_cents(share, column)), 6) for column, _ in share.fillers
        ]
        unpaid = settlement.row_cents(share) - sum(
            (settlement.fill_cents(share, c) for c, w in share.fillers if w is not None), Fraction(0)
        )
        unpaid -= settlement.vote_cents_each(share) * len(share.voters)
        assert row["unpaid_cents"] == round(float(unpaid), 6)
