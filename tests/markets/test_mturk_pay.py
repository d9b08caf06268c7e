from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.markets.mturk_pay import (
    APPROVAL_FEEDBACK,
    PayError,
    PayPlan,
    PayReport,
    bonus_reason,
    bonus_request_token,
    execute_plan,
    plan_payments,
)
from crowdfill.markets.mturk_records import Assignment, bonus_cents_by_worker, list_assignments, list_bonuses
from crowdfill.markets.state import HitRecord, MarketState, PaymentRecord
from tests.markets.support import (
    TABLE,
    assignment,
    expect_assignments,
    expect_bonuses,
    offline_client,
    stubbed,
)

PAYMENTS = {"mturk:W1": 120, "mturk:W2": 80, "mturk:W3": 0, "prolific:P1": 50, "alice": 30}
BUDGET = 1000


def published(tmp_path: Path) -> MarketState:
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    state.use_environment("sandbox")
    state.add_hit(HitRecord("HIT1", "T1", "G1", "https://x.example/w/soccer", 50, 10))
    return state


def first_round() -> list[Any]:
    return [assignment("A1", "W1"), assignment("A2", "W2", status="Approved"), assignment("A3", "W3")]


def expect_bonus(stubber: Stubber, worker_id: str, assignment_id: str, cents: int, amount: str) -> None:
    stubber.add_response(
        "send_bonus",
        {},
        {
            "WorkerId": worker_id,
            "BonusAmount": amount,
            "AssignmentId": assignment_id,
            "Reason": bonus_reason(TABLE, cents),
            "UniqueRequestToken": bonus_request_token(TABLE, f"mturk:{worker_id}"),
        },
    )


def expect_approval(stubber: Stubber, assignment_id: str) -> None:
    stubber.add_response(
        "approve_assignment", {}, {"AssignmentId": assignment_id, "RequesterFeedback": APPROVAL_FEEDBACK}
    )


def run_round(
    state: MarketState,
    assignments: list[Any],
    bonuses: list[tuple[str, str, str]],
    expect: list[tuple[str, ...]],
    payments: dict[str, int] = PAYMENTS,
    budget: int = BUDGET,
    failing: frozenset[str] = frozenset(),
) -> tuple[PayPlan, PayReport]:
    """One ``mturk pay`` round against a stubbed MTurk; ``expect`` lists the writes in order."""
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", assignments)
        expect_bonuses(stubber, "HIT1", bonuses)
        for call in expect:
            if call[0] == "approve":
                expect_approval(stubber, call[1])
            elif call[1] in failing:
                stubber.add_client_error(
                    "send_bonus", service_error_code="ServiceFault", service_message="try again later"
                )
            else:
                expect_bonus(stubber, call[1], call[2], int(call[3]), call[4])
        found = list_assignments(client, ["HIT1"])
        paid = bonus_cents_by_worker(list_bonuses(client, ["HIT1"]))
        the_plan = plan_payments(TABLE, payments, budget, found, paid, state)
        report = execute_plan(client, state, the_plan)
    return the_plan, report


def test_pay_approves_submissions_then_sends_each_mturk_worker_one_bonus(tmp_path: Path) -> None:
    state = published(tmp_path)
    the_plan, report = run_round(
        state,
        first_round(),
        [],
        [
            ("approve", "A1"),
            ("approve", "A3"),
            ("bonus", "W1", "A1", "120", "1.20"),
            ("bonus", "W2", "A2", "80", "0.80"),
        ],
    )
    assert the_plan.to_pay_cents == 200
    assert dict(the_plan.other_workers) == {"alice": 30, "prolific:P1": 50}
    assert report.paid == {"mturk:W1": 120, "mturk:W2": 80}
    assert report.ok
    saved = MarketState.load(tmp_path / "mturk.json", TABLE)
    assert {w: (p.status, p.cents) for w, p in saved.payments.items()} == {
        "mturk:W1": ("paid", 120),
        "mturk:W2": ("paid", 80),
    }
    assert saved.approved == ["A1", "A3"]


def test_the_bonus_token_is_derived_from_table_and_worker_only() -> None:
    token = bonus_request_token(TABLE, "mturk:W1")
    assert token == bonus_request_token(TABLE, "mturk:W1")
    assert token != bonus_request_token(TABLE, "mturk:W2")
    assert token != bonus_request_token("other", "mturk:W1")
    assert len(token) <= 64


def test_a_rerun_pays_nobody_twice(tmp_path: Path) -> None:
    state = published(tmp_path)
    approved = [assignment(a, w, status="Approved") for a, w in (("A1", "W1"), ("A2", "W2"), ("A3", "W3"))]
    run_round(
        state,
        first_round(),
        [],
        [
            ("approve", "A1"),
            ("approve", "A3"),
            ("bonus", "W1", "A1", "120", "1.20"),
            ("bonus", "W2", "A2", "80", "0.80"),
        ],
    )
    the_plan, report = run_round(state, approved, [("W1", "A1", "1.20"), ("W2", "A2", "0.80")], [])
    assert the_plan.to_pay_cents == 0
    assert the_plan.already_paid_cents == 200
    assert report.paid == {}


def test_a_lost_state_file_still_pays_nobody_twice_because_mturk_lists_the_bonuses(tmp_path: Path) -> None:
    fresh = published(tmp_path / "elsewhere")
    approved = [assignment("A1", "W1", status="Approved"), assignment("A2", "W2", status="Approved")]
    the_plan, _ = run_round(fresh, approved, [("W1", "A1", "1.20"), ("W2", "A2", "0.80")], [])
    assert the_plan.to_pay_cents == 0


def test_our_record_of_a_payment_counts_even_before_mturk_lists_it(tmp_path: Path) -> None:
    state = published(tmp_path)
    state.record_payment(PaymentRecord("mturk:W1", 120, "A1", bonus_request_token(TABLE, "mturk:W1"), "paid"))
    approved = [assignment("A1", "W1", status="Approved"), assignment("A2", "W2", status="Approved")]
    the_plan, _ = run_round(state, approved, [], [("bonus", "W2", "A2", "80", "0.80")])
    assert [(b.worker, b.action) for b in the_plan.bonuses] == [("mturk:W1", "paid"), ("mturk:W2", "pay")]


def test_a_failed_bonus_is_reported_and_retried_with_the_same_token_on_the_next_run(tmp_path: Path) -> None:
    state = published(tmp_path)
    _, report = run_round(
        state,
        first_round(),
        [],
        [("approve", "A1"), ("approve", "A3"), ("bonus", "W1"), ("bonus", "W2", "A2", "80", "0.80")],
        failing=frozenset({"W1"}),
    )
    assert report.failures == {"mturk:W1": "ServiceFault: try again later"}
    assert report.paid == {"mturk:W2": 80}
    assert not report.ok
    failed = MarketState.load(tmp_path / "mturk.json", TABLE).payments["mturk:W1"]
    assert (failed.status, failed.token) == ("failed", bonus_request_token(TABLE, "mturk:W1"))

    approved = [assignment(a, w, status="Approved") for a, w in (("A1", "W1"), ("A2", "W2"), ("A3", "W3"))]
    the_plan, report = run_round(
        state, approved, [("W2", "A2", "0.80")], [("bonus", "W1", "A1", "120", "1.20")]
    )
    assert [b.worker for b in the_plan.bonuses if b.action == "pay"] == ["mturk:W1"]
    assert report.paid == {"mturk:W1": 120}
    assert MarketState.load(tmp_path / "mturk.json", TABLE).paid_cents() == 200


def test_a_settlement_above_the_budget_pays_nobody(tmp_path: Path) -> None:
    state = published(tmp_path)
    with pytest.raises(PayError, match="more than the budget"):
        plan_payments(TABLE, {"mturk:W1": 600, "mturk:W2": 500}, 1000, [], {}, state)


def test_the_budget_caps_bonuses_together_with_what_was_paid_before(tmp_path: Path) -> None:
    state = published(tmp_path)
    state.record_payment(PaymentRecord("mturk:W9", 900, "A9", "t", "paid"))
    the_plan, report = run_round(
        state,
        [assignment("A1", "W1", status="Approved"), assignment("A2", "W2", status="Approved")],
        [],
        [("bonus", "W2", "A2", "80", "0.80")],
        payments={"mturk:W1": 120, "mturk:W2": 80},
    )
    assert {b.worker: (b.action, b.note) for b in the_plan.bonuses} == {
        "mturk:W1": ("skip", "would exceed the budget"),
        "mturk:W2": ("pay", ""),
    }
    assert state.paid_cents() <= BUDGET
    assert report.skipped == {"mturk:W1": "would exceed the budget"}


def test_a_worker_mturk_shows_no_submission_for_is_listed_as_unverified_and_not_paid(tmp_path: Path) -> None:
    state = published(tmp_path)
    # W1's only assignment was rejected; W4 never had one (an id typed into the worker page's URL).
    the_plan, report = run_round(
        state,
        [assignment("A1", "W1", status="Rejected"), assignment("A2", "W2", status="Approved")],
        [],
        [("bonus", "W2", "A2", "80", "0.80")],
        payments={"mturk:W1": 120, "mturk:W2": 80, "mturk:W4": 300},
    )
    assert {b.worker: b.action for b in the_plan.bonuses} == {
        "mturk:W1": "unverified",
        "mturk:W2": "pay",
        "mturk:W4": "unverified",
    }
    assert [b.worker for b in the_plan.unverified] == ["mturk:W1", "mturk:W4"]
    assert "2 unverified worker(s), not paid: mturk:W1, mturk:W4" in "\n".join(the_plan.lines())
    assert report.paid == {"mturk:W2": 80}
    assert report.unverified == ["mturk:W1", "mturk:W4"]
    assert "  unverified mturk:W4: not paid" in report.lines()
    assert set(state.payments) == {"mturk:W2"}


def test_a_pending_bonus_that_mturk_lists_is_recorded_as_paid_and_not_sent_again(tmp_path: Path) -> None:
    state = published(tmp_path)
    token = bonus_request_token(TABLE, "mturk:W1")
    state.record_payment(PaymentRecord("mturk:W1", 120, "A1", token, "pending"))
    approved = [assignment("A1", "W1", status="Approved"), assignment("A2", "W2", status="Approved")]
    # No send_bonus for W1 is expected: the Stubber fails the test if one is made.
    the_plan, report = run_round(
        state, approved, [("W1", "A1", "1.20")], [("bonus", "W2", "A2", "80", "0.80")]
    )
    assert [(b.worker, b.action) for b in the_plan.bonuses] == [("mturk:W1", "confirm"), ("mturk:W2", "pay")]
    assert "found paid   mturk:W1 $1.20 on A1" in "\n".join(the_plan.lines())
    assert report.confirmed == {"mturk:W1": 120}
    saved = MarketState.load(tmp_path / "mturk.json", TABLE).payments["mturk:W1"]
    assert (saved.status, saved.cents, saved.token) == ("paid", 120, token)


def test_a_pending_bonus_mturk_does_not_list_is_re_sent_with_its_own_token_not_planned_as_a_new_pay(
    tmp_path: Path,
) -> None:
    state = published(tmp_path)
    token = bonus_request_token(TABLE, "mturk:W1")
    state.record_payment(PaymentRecord("mturk:W1", 120, "A1", token, "pending"))
    approved = [assignment("A1", "W1", status="Approved")]
    the_plan, report = run_round(
        state, approved, [], [("bonus", "W1", "A1", "120", "1.20")], payments={"mturk:W1": 120}
    )
    (only,) = the_plan.bonuses
    assert (only.action, only.token, only.assignment_id) == ("pending", token, "A1")
    assert "pending      mturk:W1 $1.20 on A1: sent before but never confirmed" in "\n".join(the_plan.lines())
    assert report.paid == {"mturk:W1": 120}
    assert MarketState.load(tmp_path / "mturk.json", TABLE).payments["mturk:W1"].status == "paid"


def test_a_worker_paid_a_different_amount_before_is_not_paid_again(tmp_path: Path) -> None:
    state = published(tmp_path)
    the_plan, _ = run_round(
        state,
        [assignment("A1", "W1", status="Approved")],
        [("W1", "A1", "0.50")],
        [],
        payments={"mturk:W1": 120},
    )
    (only,) = the_plan.bonuses
    assert only.action == "skip"
    assert "already received $0.50" in only.note


def test_an_approval_that_fails_holds_back_that_workers_bonus(tmp_path: Path) -> None:
    state = published(tmp_path)
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", [assignment("A1", "W1"), assignment("A2", "W2")])
        expect_bonuses(stubber, "HIT1", [])
        stubber.add_client_error("approve_assignment", "RequestError", "assignment is not in Submitted state")
        expect_approval(stubber, "A2")
        expect_bonus(stubber, "W2", "A2", 80, "0.80")
        the_plan = plan_payments(
            TABLE,
            {"mturk:W1": 120, "mturk:W2": 80},
            BUDGET,
            list_assignments(client, ["HIT1"]),
            bonus_cents_by_worker(list_bonuses(client, ["HIT1"])),
            state,
        )
        report = execute_plan(client, state, the_plan)
    assert set(report.approval_failures) == {"A1"}
    assert report.failures == {"mturk:W1": "its assignment could not be approved; bonus not sent"}
    assert report.paid == {"mturk:W2": 80}
    assert "mturk:W1" not in state.payments


def test_assignments_and_bonuses_are_read_across_pages() -> None:
    client = offline_client()
    statuses = ["Submitted", "Approved", "Rejected"]
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_assignments_for_hit",
            {"Assignments": [assignment("A1", "W1")], "NextToken": "page2"},
            {"HITId": "HIT1", "MaxResults": 100, "AssignmentStatuses": statuses},
        )
        stubber.add_response(
            "list_assignments_for_hit",
            {"Assignments": [assignment("A2", "W2")]},
            {"HITId": "HIT1", "MaxResults": 100, "AssignmentStatuses": statuses, "NextToken": "page2"},
        )
        stubber.add_response(
            "list_bonus_payments",
            {"BonusPayments": [{"WorkerId": "W1", "BonusAmount": "1.00"}], "NextToken": "b2"},
            {"HITId": "HIT1", "MaxResults": 100},
        )
        stubber.add_response(
            "list_bonus_payments",
            {"BonusPayments": [{"WorkerId": "W1", "BonusAmount": "0.25"}]},
            {"HITId": "HIT1", "MaxResults": 100, "NextToken": "b2"},
        )
        found = list_assignments(client, ["HIT1"])
        bonuses = list_bonuses(client, ["HIT1"])
    assert [a.assignment_id for a in found] == ["A1", "A2"]
    assert bonus_cents_by_worker(bonuses) == {"W1": 125}


def test_the_plan_reads_as_a_list_of_what_will_happen(tmp_path: Path) -> None:
    state = published(tmp_path)
    found = list_assignments_offline()
    the_plan = plan_payments(TABLE, PAYMENTS, BUDGET, found, {}, state)
    text = "\n".join(the_plan.lines())
    assert "approve A1 (mturk:W1)" in text
    assert "pay          mturk:W1 $1.20 on A1" in text
    assert "not MTurk    prolific:P1 $0.50" in text
    assert "bonuses to send now: $2.00" in text


def list_assignments_offline() -> list[Assignment]:
    client = offline_client()
    with stubbed(client) as stubber:
        expect_assignments(stubber, "HIT1", first_round())
        return list_assignments(client, ["HIT1"])


WORKERS = st.sampled_from([f"mturk:W{n}" for n in range(6)] + ["prolific:P1", "alice"])


@settings(max_examples=200, deadline=None)
@given(
    payments=st.dictionaries(WORKERS, st.integers(0, 500)),
    budget=st.integers(0, 2000),
    paid_before=st.dictionaries(st.sampled_from([f"W{n}" for n in range(6)]), st.integers(1, 500)),
    submitted=st.sets(st.sampled_from([f"W{n}" for n in range(6)])),
    pending=st.dictionaries(st.sampled_from([f"W{n}" for n in range(6)]), st.integers(1, 500)),
)
def test_a_plan_never_exceeds_the_budget_nor_pays_anyone_twice(
    payments: dict[str, int],
    budget: int,
    paid_before: dict[str, int],
    submitted: set[str],
    pending: dict[str, int],
) -> None:
    state = MarketState(path=Path("unused.json"), table_id=TABLE)  # never saved: planning is pure
    for worker_id, cents in pending.items():
        state.payments[f"mturk:{worker_id}"] = PaymentRecord(
            f"mturk:{worker_id}", cents, f"A{worker_id}", "t", "pending"
        )
    found = [Assignment(f"A{w}", w, "HIT1", "Approved") for w in sorted(submitted)]
    try:
        the_plan = plan_payments(TABLE, payments, budget, found, paid_before, state)
    except PayError:
        assert sum(payments.values()) > budget
        return
    paying = [b for b in the_plan.bonuses if b.action in ("pay", "pending")]
    owed_elsewhere = sum(cents for worker, cents in payments.items() if not worker.startswith("mturk:"))
    if paying:
        assert sum(b.cents for b in paying) + sum(paid_before.values()) + owed_elsewhere <= budget
    for bonus in paying:
        worker_id = bonus.worker.removeprefix("mturk:")
        assert worker_id not in paid_before
        assert worker_id in submitted
        # A pending bonus goes out again only as itself (same amount), never as a second, new one.
        expected = pending[worker_id] if bonus.action == "pending" else payments[bonus.worker]
        assert (bonus.action == "pending") == (worker_id in pending)
        assert bonus.cents == expected > 0
