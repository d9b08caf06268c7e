"""Paying MTurk workers their share: approve submissions, then one bonus per worker, exactly once.

Safety comes from three layers: the plan never pays a worker whom MTurk or our state file already
shows as paid; each bonus carries a ``UniqueRequestToken`` derived from table and worker, so MTurk
refuses a duplicate sent within a day; and the plan never commits more than the budget. Every
outcome is written to the state file before the next call, so a failure half-way resumes cleanly.

A bonus left ``pending`` (sent, outcome never recorded) is reconciled against MTurk's list of
bonuses before anything is paid: listed, it is recorded as paid; not listed, it is re-sent with its
own token. Workers MTurk shows no submission for are listed as unverified and never paid: the
worker page cannot prove a worker id, MTurk's assignments can.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import BotoCoreError, ClientError

from crowdfill.markets.identity import (
    MTURK_PREFIX,
    MarketIdentityError,
    market_of,
    mturk_worker,
    mturk_worker_id,
)
from crowdfill.markets.money import cents_to_amount
from crowdfill.markets.mturk_records import Assignment
from crowdfill.markets.state import MarketState, PaymentRecord

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient

# pay: send now; paid: MTurk or our records show it paid; skip: not paid, for the reason in the note;
# unverified: MTurk shows no submitted or approved assignment of the worker on the table's HITs, so
# the id may be invented; pending: a bonus sent before whose outcome was never recorded and that
# MTurk does not list, re-sent with the same request token; confirm: such a bonus MTurk does list,
# recorded as paid and not sent again.
Action = Literal["pay", "paid", "skip", "unverified", "pending", "confirm"]
_LABELS: dict[Action, str] = {
    "pay": "pay",
    "paid": "already paid",
    "skip": "skip",
    "unverified": "unverified",
    "pending": "pending",
    "confirm": "found paid",
}
UNVERIFIED_NOTE = "no submitted or approved assignment of this table's HITs on MTurk; not paid"
PENDING_NOTE = "sent before but never confirmed, and MTurk lists no such bonus; re-sent with the same token"
CONFIRM_NOTE = "the pending bonus is listed by MTurk; recorded as paid, not sent again"
APPROVAL_FEEDBACK = "Thank you for your work on this table."


class PayError(ValueError):
    """A payment run that must not start (e.g. payments that add up to more than the budget)."""


def bonus_request_token(table_id: str, worker: str) -> str:
    """The SendBonus ``UniqueRequestToken`` for one worker of one table (at most 64 characters)."""
    digest = hashlib.sha256(f"crowdfill\nbonus\n{table_id}\n{worker}".encode()).hexdigest()
    return f"cf-bonus-{digest[:48]}"


def bonus_reason(table_id: str, cents: int) -> str:
    return (
        f"Your share (${cents_to_amount(cents)}) of the budget of CrowdFill table {table_id}, "
        "for your contribution to its final table."
    )


@dataclass(frozen=True)
class PlannedBonus:
    worker: str
    cents: int
    action: Action
    assignment_id: str = ""
    note: str = ""
    # The SendBonus token of a pending bonus being re-sent (empty: derived from table and worker).
    token: str = ""


@dataclass(frozen=True)
class PayPlan:
    table_id: str
    budget_cents: int
    approvals: tuple[Assignment, ...]
    bonuses: tuple[PlannedBonus, ...]
    other_workers: tuple[tuple[str, int], ...] = ()

    @property
    def to_pay_cents(self) -> int:
        return sum(b.cents for b in self.bonuses if b.action in ("pay", "pending"))

    @property
    def already_paid_cents(self) -> int:
        return sum(b.cents for b in self.bonuses if b.action in ("paid", "confirm"))

    @property
    def unverified(self) -> tuple[PlannedBonus, ...]:
        return tuple(b for b in self.bonuses if b.action == "unverified")

    def lines(self) -> list[str]:
        """The plan as a person reads it (``--dry-run`` prints this)."""
        out = [f"table {self.table_id}: budget ${cents_to_amount(self.budget_cents)}"]
        out.append(f"approve {len(self.approvals)} submitted assignment(s)")
        out.extend(f"  approve {a.assignment_id} ({mturk_worker(a.worker_id)})" for a in self.approvals)
        for bonus in self.bonuses:
            label = _LABELS[bonus.action]
            detail = f" on {bonus.assignment_id}" if bonus.assignment_id else ""
            note = f": {bonus.note}" if bonus.note else ""
            out.append(f"  {label:<12} {bonus.worker} ${cents_to_amount(bonus.cents)}{detail}{note}")
        for worker, cents in self.other_workers:
            out.append(f"  not MTurk    {worker} ${cents_to_amount(cents)}: pay through its own platform")
        out.append(
            f"bonuses to send now: ${cents_to_amount(self.to_pay_cents)}; "
            f"already paid: ${cents_to_amount(self.already_paid_cents)}"
        )
        if self.unverified:
            out.append(
                f"{len(self.unverified)} unverified worker(s), not paid: "
                + ", ".join(b.worker for b in self.unverified)
                + " (MTurk has no submission of theirs on this table's HITs; "
                "'crowdfill mturk block' keeps them out of other tables)"
            )
        return out


def plan_payments(
    table_id: str,
    payments: Mapping[str, int],
    budget_cents: int,
    assignments: Sequence[Assignment],
    paid_on_mturk: Mapping[str, int],
    state: MarketState,
) -> PayPlan:
    """Decide, without side effects, what to approve and whom to pay how much.

    ``payments`` are the settlement's cents per worker (ours, ``mturk:<WorkerId>``); ``paid_on_mturk``
    the bonus cents MTurk already lists per MTurk WorkerId.
    """
    total_due = sum(payments.values())
    if any(cents < 0 for cents in payments.values()):
        raise PayError("the settlement has a negative payment; refusing to pay anyone")
    if total_due > budget_cents:
        raise PayError(
            f"the settlement pays ${cents_to_amount(total_due)}, more than the budget "
            f"${cents_to_amount(budget_cents)}; refusing to pay anyone"
        )
    approvals = tuple(a for a in assignments if a.status == "Submitted")
    usable: dict[str, Assignment] = {}
    for candidate in assignments:
        if candidate.status != "Rejected":
            usable.setdefault(candidate.worker_id, candidate)

    bonuses: list[PlannedBonus] = []
    others: list[tuple[str, int]] = []
    mturk_due: list[tuple[str, str, int]] = []
    for worker in sorted(payments):
        cents = payments[worker]
        if cents == 0:
            continue
        if market_of(worker) != "mturk":
            others.append((worker, cents))
            continue
        try:
            mturk_due.append((worker, mturk_worker_id(worker), cents))
        except MarketIdentityError as error:
            bonuses.append(PlannedBonus(worker, cents, "skip", note=str(error)))

    # What each MTurk worker has received so far: MTurk's own list, or our record if it is larger
    # (MTurk may not list a bonus yet). All of it counts against the budget, owed now or not, and so
    # does what the workers of other origins are owed.
    received: dict[str, int] = dict(paid_on_mturk)
    for worker, record in state.payments.items():
        if record.status == "paid":
            worker_id = worker.removeprefix(MTURK_PREFIX)
            received[worker_id] = max(received.get(worker_id, 0), record.cents)
    committed = sum(received.values()) + sum(cents for _, cents in others)
    for worker, worker_id, cents in mturk_due:
        paid = received.get(worker_id, 0)
        assignment = usable.get(worker_id)
        assignment_id = assignment.assignment_id if assignment is not None else ""
        pending = state.payments.get(worker)
        if pending is not None and pending.status == "pending":
            # A bonus was sent but its outcome never recorded (a crash, Ctrl-C). MTurk's own list of
            # bonuses says whether it arrived; only if it did not is it sent again, with its token.
            if paid >= pending.cents:
                bonuses.append(
                    PlannedBonus(
                        worker, pending.cents, "confirm", pending.assignment_id, CONFIRM_NOTE, pending.token
                    )
                )
                continue
            if paid == 0 and assignment is not None:
                if committed + pending.cents > budget_cents:
                    note = "pending bonus not re-sent: would exceed the budget"
                    bonuses.append(PlannedBonus(worker, pending.cents, "skip", pending.assignment_id, note))
                    continue
                committed += pending.cents
                bonuses.append(
                    PlannedBonus(
                        worker, pending.cents, "pending", pending.assignment_id, PENDING_NOTE, pending.token
                    )
                )
                continue
        if paid >= cents:
            bonuses.append(PlannedBonus(worker, paid, "paid", assignment_id))
        elif paid > 0:
            note = f"already received ${cents_to_amount(paid)}; settle the difference by hand"
            bonuses.append(PlannedBonus(worker, cents, "skip", assignment_id, note))
        elif assignment is None:
            bonuses.append(PlannedBonus(worker, cents, "unverified", note=UNVERIFIED_NOTE))
        elif committed + cents > budget_cents:
            bonuses.append(PlannedBonus(worker, cents, "skip", assignment_id, "would exceed the budget"))
        else:
            committed += cents
            bonuses.append(PlannedBonus(worker, cents, "pay", assignment_id))
    return PayPlan(table_id, budget_cents, approvals, tuple(bonuses), tuple(others))


@dataclass
class PayReport:
    approved: list[str] = field(default_factory=list)
    approval_failures: dict[str, str] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)
    confirmed: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.approval_failures

    def lines(self) -> list[str]:
        out = [f"approved {len(self.approved)} assignment(s)"]
        out.extend(f"  approval FAILED {a}: {e}" for a, e in sorted(self.approval_failures.items()))
        out.extend(f"  paid    {w} ${cents_to_amount(c)}" for w, c in sorted(self.paid.items()))
        out.extend(
            f"  found paid {w} ${cents_to_amount(c)}: recorded" for w, c in sorted(self.confirmed.items())
        )
        out.extend(f"  FAILED  {w}: {e}" for w, e in sorted(self.failures.items()))
        out.extend(f"  skipped {w}: {why}" for w, why in sorted(self.skipped.items()))
        out.extend(f"  unverified {w}: not paid" for w in sorted(self.unverified))
        if self.failures or self.approval_failures:
            out.append("some calls failed; run the same command again to retry them (nobody is paid twice)")
        return out


def _describe(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"
    return str(error)


def execute_plan(client: MTurkClient, state: MarketState, plan: PayPlan) -> PayReport:
    """Carry out ``plan``: approvals first, then bonuses; each outcome is recorded before the next call."""
    report = PayReport()
    # Reconciliation first: a pending bonus MTurk lists is recorded as paid before anything is sent.
    for bonus in plan.bonuses:
        if bonus.action == "confirm":
            state.record_payment(
                PaymentRecord(bonus.worker, bonus.cents, bonus.assignment_id, bonus.token, "paid")
            )
            report.confirmed[bonus.worker] = bonus.cents
    failed_assignments: set[str] = set()
    for assignment in plan.approvals:
        try:
            client.approve_assignment(
                AssignmentId=assignment.assignment_id, RequesterFeedback=APPROVAL_FEEDBACK
            )
        except (ClientError, BotoCoreError) as error:
            report.approval_failures[assignment.assignment_id] = _describe(error)
            failed_assignments.add(assignment.assignment_id)
            continue
        state.mark_approved(assignment.assignment_id)
        report.approved.append(assignment.assignment_id)
    for bonus in plan.bonuses:
        if bonus.action == "skip":
            report.skipped[bonus.worker] = bonus.note
            continue
        if bonus.action == "unverified":
            report.unverified.append(bonus.worker)
            continue
        if bonus.action in ("paid", "confirm"):
            continue
        if bonus.assignment_id in failed_assignments:
            report.failures[bonus.worker] = "its assignment could not be approved; bonus not sent"
            continue
        _pay_one(client, state, plan.table_id, bonus, report)
    return report


def _pay_one(
    client: MTurkClient, state: MarketState, table_id: str, bonus: PlannedBonus, report: PayReport
) -> None:
    token = bonus.token or bonus_request_token(table_id, bonus.worker)
    pending = PaymentRecord(bonus.worker, bonus.cents, bonus.assignment_id, token, "pending")
    state.record_payment(pending)
    try:
        client.send_bonus(
            WorkerId=mturk_worker_id(bonus.worker),
            BonusAmount=cents_to_amount(bonus.cents),
            AssignmentId=bonus.assignment_id,
            Reason=bonus_reason(table_id, bonus.cents),
            UniqueRequestToken=token,
        )
    except (ClientError, BotoCoreError) as error:
        message = _describe(error)
        state.record_payment(
            PaymentRecord(bonus.worker, bonus.cents, bonus.assignment_id, token, "failed", message)
        )
        report.failures[bonus.worker] = message
        return
    state.record_payment(PaymentRecord(bonus.worker, bonus.cents, bonus.assignment_id, token, "paid"))
    report.paid[bonus.worker] = bonus.cents
