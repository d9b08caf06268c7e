"""Final compensation: split the budget over the final table, exactly, in whole cents.

The pipeline (docs/compensation.md has the formulas and a worked example):

1. Order the final rows by when their key first appeared in the log; rank r = 0, 1, ..., n - 1.
   A table closed early also counts the template rows it lacks, as rows found after all others.
2. Row r's share of the budget B is B * w_r / sum(w), with w_r = g**-(N - 1 - r) (fixed point).
3. Of a row's share, (1 - s) * w_c / sum(w_c) goes to the worker who entered column c's value, and
   s is split equally among the row's agreeing voters (see ``credit``).
4. A completed table pays its whole budget: each worker's earnings are scaled by B / (all the
   workers' earnings), which redistributes the unearned parts in proportion. A table closed early
   keeps the unearned parts unpaid, each under its reason (``unpaid``).
5. Each worker's exact total is rounded to cents by largest remainder; what is paid is the floor of
   the exact total, so it never exceeds B (and is B on a completed table with any earnings).

Everything after the ledger is integer arithmetic over one common denominator: exact and the same
on every machine, whatever the order of dictionaries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from crowdfill.compensation.credit import RowCredit, credits
from crowdfill.compensation.errors import LogMismatch
from crowdfill.compensation.fooled_bonus import NO_BONUS, FooledBonus, fooled_bonus
from crowdfill.compensation.ledger import Ledger
from crowdfill.compensation.rounding import largest_remainder
from crowdfill.compensation.settings import CompensationSettings
from crowdfill.compensation.unpaid import (
    CLOSED_EARLY_UNFILLED,
    EXCLUDED_WORKERS,
    NO_AGREEING_VOTERS,
    NO_CONTRIBUTIONS,
    TEMPLATE_VALUES,
    split_unpaid,
)
from crowdfill.compensation.weights import Decay
from crowdfill.model.operations import Operation
from crowdfill.model.row import Row
from crowdfill.model.table import CandidateTable
from crowdfill.model.values import Value

VOTE = "vote"


@dataclass(frozen=True)
class RowShare:
    """One final row's part of the settlement; amounts are read through ``Settlement``."""

    row_id: str
    paid_row_id: str
    key: tuple[Value, ...]
    rank: int
    weight: int
    fillers: tuple[tuple[str, str | None], ...]
    voters: tuple[str, ...]


@dataclass(frozen=True)
class Settlement:
    budget_cents: int
    paid_cents: int
    unpaid_cents: int
    payments: dict[str, int]
    rows: tuple[RowShare, ...]
    settings: CompensationSettings
    completed: bool
    unpaid_reasons: dict[str, int]  # reason code (crowdfill.compensation.unpaid) -> cents
    _column_units: dict[str, int]
    _vote_units: dict[int, int]
    _earned_units: dict[str, dict[str, int]]
    _units: int
    _total_weight: int
    _pay_denominator: int  # exact pay = split budget * earned units / this
    # Workers the requester excluded (a reweigh in force says so): paid nothing, reason excluded_workers.
    excluded_workers: tuple[str, ...] = ()
    # The part of the budget set aside for rows that fooled the model (``fooled_bonus``); the rest
    # is the split budget the formulas above divide.
    fooled_bonus: FooledBonus = field(default=NO_BONUS)

    @property
    def _split_cents(self) -> int:
        return self.budget_cents - self.fooled_bonus.pool_cents

    # ------------------------------------------------------------------ exact amounts (cents)
    def exact_cents(self, worker: str) -> Fraction:
        """The worker's exact pay before rounding: their earnings, redistribution included."""
        bonus = self.fooled_bonus.exact.get(worker, Fraction(0))
        if self._pay_denominator == 0:
            return bonus
        units = sum(self._earned_units.get(worker, {}).values())
        return Fraction(self._split_cents * units, self._pay_denominator) + bonus

    @property
    def redistributed_cents(self) -> Fraction:
        """What a completed table adds to the earnings: the unearned parts, paid out in proportion."""
        earned = sum(sum(kinds.values()) for kinds in self._earned_units.values())
        bonus = sum(self.fooled_bonus.exact.values(), Fraction(0))
        paid = sum(
            (self.exact_cents(w) for w in {*self._earned_units, *self.fooled_bonus.exact}), Fraction(0)
        )
        return paid - bonus - self._cents(earned)

    def earned(self, worker: str) -> dict[str, Fraction]:
        """Exact earnings by kind before any redistribution: one entry per column the worker is paid
        for, and ``"vote"`` (the split of the row shares, as ``rows`` describes it)."""
        units = self._earned_units.get(worker, {})
        return {kind: self._cents(amount) for kind, amount in units.items()}

    def row_cents(self, row: RowShare) -> Fraction:
        return self._cents(row.weight * self._units)

    def fill_cents(self, row: RowShare, column: str) -> Fraction:
        return self._cents(row.weight * self._column_units[column])

    def vote_cents_each(self, row: RowShare) -> Fraction:
        return (
            self._cents(row.weight * self._vote_units.get(len(row.voters), 0)) if row.voters else Fraction(0)
        )

    def _cents(self, units: int) -> Fraction:
        if self._total_weight == 0:
            return Fraction(0)
        return Fraction(self._split_cents * units, self._total_weight * self._units)

    def _float(self, units: int) -> float:
        if self._total_weight == 0:
            return 0.0
        return round(self._split_cents * units / (self._total_weight * self._units), 6)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-able: cents as integers; exact amounts as floats rounded to 1e-6 cent, for display."""
        # Once per final row (tens of thousands on a big table): the attribute lookups are hoisted
        # and ``_float``'s division is written out, with the same operands (so the same floats).
        split = self._split_cents
        denominator = self._total_weight * self._units
        units = self._units
        column_units = self._column_units
        vote_units = self._vote_units

        def amount(n: int) -> float:
            return round(split * n / denominator, 6) if denominator else 0.0

        rows = []
        for row in self.rows:
            weight = row.weight
            voters = row.voters
            if weight:
                vote_each = vote_units.get(len(voters), 0) if voters else 0
                earned = sum([column_units[c] for c, w in row.fillers if w is not None])
                earned += vote_each * len(voters)
                share, each, unpaid = (
                    amount(weight * units),
                    amount(weight * vote_each),
                    amount(weight * (units - earned)),
                )
                fills = [
                    {"column": c, "worker": w, "cents": amount(weight * column_units[c])}
                    for c, w in row.fillers
                ]
            else:
                # A row so early that its fixed-point weight is 0 (most rows of a big table: at
                # g = 1.1, all but the last ~700) has every amount 0.0, which ``amount(0)`` is.
                share = each = unpaid = 0.0
                fills = [{"column": c, "worker": w, "cents": 0.0} for c, w in row.fillers]
            rows.append(
                {
                    "row_id": row.row_id,
                    "paid_row_id": row.paid_row_id,
                    "key": list(row.key),
                    "rank": row.rank,
                    "share_cents": share,
                    "fills": fills,
                    "voters": list(voters),
                    "vote_cents_each": each,
                    "unpaid_cents": unpaid,
                }
            )
        data: dict[str, Any] = {
            "budget_cents": self.budget_cents,
            "completed": self.completed,
            "paid_cents": self.paid_cents,
            "unpaid_cents": self.unpaid_cents,
            "unpaid_reasons": dict(self.unpaid_reasons),
            "redistributed_cents": round(float(self.redistributed_cents), 6),
            "payments": dict(self.payments),
            "excluded_workers": list(self.excluded_workers),
            "exact_cents": {worker: round(float(self.exact_cents(worker)), 6) for worker in self.payments},
            "earned": {
                worker: {
                    kind: self._float(kinds[kind]) for kind in [*self._column_units, VOTE] if kind in kinds
                }
                for worker, kinds in sorted(self._earned_units.items())
            },
            "rows": rows,
            "settings": self.settings.to_dict(),
        }
        if self.settings.fooled_bonus_share:
            data["fooled_bonus"] = self.fooled_bonus.to_dict()
        return data


def settle(
    table: CandidateTable, log: Iterable[Operation], settings: CompensationSettings, *, completed: bool
) -> Settlement:
    """The final payments for ``table``, whose history is ``log`` (accepted operations in sequence order).

    ``completed`` says how collection ended: True when the final table satisfied the template (the
    whole budget is paid), False when the requester closed the table early (unearned parts stay
    unpaid, with their reasons). The settlement cannot tell these apart from the log: the template
    check belongs to the central client, and the owner knows which one happened.

    A pure function of the log, the settings and the outcome: the table only supplies the schema,
    the template and the final table that the log produced (checked against the log, which raises
    ``LogMismatch`` otherwise).
    """
    settings.column_parts(table.schema)  # refuse weights for unknown columns before any work
    ledger = Ledger.of(table.schema, log, strict=True)
    if ledger.live != len(table):
        raise LogMismatch(f"the log leaves {ledger.live} live rows but the table has {len(table)}")
    final = table.final_table()
    for row in final:
        if not ledger.knows(row.row_id):
            raise LogMismatch(f"final row {row.row_id!r} is not made by any operation of the log")
    return settle_ledger(ledger, table, final, settings, completed=completed)


def settle_ledger(
    ledger: Ledger,
    table: CandidateTable,
    final_rows: Iterable[Row],
    settings: CompensationSettings,
    *,
    completed: bool,
) -> Settlement:
    """The settlement for ``final_rows`` given an already-built ledger (shared with the estimator)."""
    column_parts = settings.column_parts(ledger.schema)
    vote = settings.vote_fraction
    rows_in = list(final_rows)
    key_order = ledger.key_order
    unseen = len(key_order)

    def order(pair: tuple[Row, RowCredit]) -> tuple[int, str]:
        # Keys the log showed have distinct ordinals, so only unseen keys (all ``unseen``) need
        # their repr to break the tie: the same order as (ordinal, repr) for every key, cheaper.
        key = pair[1].key
        ordinal = key_order.get(key)
        return (unseen, repr(key)) if ordinal is None else (ordinal, "")

    credited = sorted(zip(rows_in, credits(ledger, table, rows_in), strict=True), key=order)
    ordered = [row_credit for _, row_credit in credited]
    bonus = fooled_bonus(table, credited, settings)
    decay = Decay(settings.growth_fraction)
    count = len(ordered)
    # Closed early, the template rows the final table lacks keep their shares (as the live estimates
    # reserve them): the rows found so far are not paid as if they were the whole table.
    missing = 0 if completed else max(0, len(table.template) - count)
    weights = [decay[count + missing - 1 - rank] for rank in range(count)]
    reserved = sum(decay[distance] for distance in range(missing))

    voter_counts = sorted({len(c.voters) for c in ordered if c.voters})
    vote_parts = {k: vote / k for k in voter_counts}
    units = math.lcm(*(p.denominator for p in [*column_parts.values(), *vote_parts.values()]))
    column_units = {c: int(p * units) for c, p in column_parts.items()}
    vote_units = {k: int(p * units) for k, p in vote_parts.items()}

    earned: dict[str, dict[str, int]] = {}
    # Each worker's vote earnings, summed apart: a big table's final rows have tens of agreeing
    # voters each, and one dict update per (row, voter) is most of this loop. A worker's first
    # vote still puts VOTE into their kinds at that moment, so the kinds keep the same order.
    vote_earned: dict[str, int] = {}
    rows = []
    template_units = unvoted_units = excluded_units = 0
    excluded = table.excluded_workers()
    fill_units = sum(column_units.values())
    for rank, (row_credit, weight) in enumerate(zip(ordered, weights, strict=True)):
        rows.append(_row_share(row_credit, rank, weight))
        for column, worker in row_credit.fillers:
            if worker in excluded:
                excluded_units += weight * column_units[column]
            elif worker is not None:
                kinds = earned.setdefault(worker, {})
                kinds[column] = kinds.get(column, 0) + weight * column_units[column]
            else:
                template_units += weight * column_units[column]
        voters = row_credit.voters
        if voters:
            each = weight * vote_units[len(voters)]
            for worker in voters:
                if excluded and worker in excluded:
                    excluded_units += each
                    continue
                so_far = vote_earned.get(worker)
                if so_far is None:
                    earned.setdefault(worker, {})[VOTE] = 0
                    vote_earned[worker] = each
                else:
                    vote_earned[worker] = so_far + each
        else:
            unvoted_units += weight * (units - fill_units)
    for worker, amount in vote_earned.items():
        earned[worker][VOTE] = amount

    workers = sorted(set(ledger.workers) | set(earned))
    totals = {worker: sum(earned.get(worker, {}).values()) for worker in workers}
    earned_units = sum(totals.values())
    total_weight = sum(weights) + reserved
    budget = settings.budget_cents - bonus.pool_cents  # the split budget; the bonus pool is paid apart
    # Completed: the denominator is what the workers earned, so the payments add up to the split
    # budget exactly (less what excluded workers earned: that is kept back, not redistributed).
    pay_denominator = earned_units + excluded_units if completed else total_weight * units
    payments = largest_remainder(totals, budget, pay_denominator)
    for worker, cents in bonus.payments.items():
        payments[worker] = payments.get(worker, 0) + cents
    paid = sum(payments.values())
    unpaid = settings.budget_cents - paid
    if earned_units == 0:
        reason = EXCLUDED_WORKERS if excluded_units else NO_CONTRIBUTIONS
        reasons = {reason: unpaid} if unpaid else {}
    elif completed:
        kept_back = {EXCLUDED_WORKERS: excluded_units}
        reasons = split_unpaid(unpaid, kept_back, budget, pay_denominator) if excluded_units else {}
    else:
        unearned = {
            CLOSED_EARLY_UNFILLED: reserved * units,
            TEMPLATE_VALUES: template_units,
            NO_AGREEING_VOTERS: unvoted_units,
            EXCLUDED_WORKERS: excluded_units,
        }
        reasons = split_unpaid(unpaid, unearned, budget, total_weight * units)
    return Settlement(
        budget_cents=settings.budget_cents,
        paid_cents=paid,
        unpaid_cents=unpaid,
        payments=payments,
        rows=tuple(rows),
        settings=settings,
        completed=completed,
        unpaid_reasons=reasons,
        _column_units=column_units,
        _vote_units=vote_units,
        _earned_units=earned,
        _units=units,
        _total_weight=total_weight,
        _pay_denominator=pay_denominator if earned_units else 0,
        excluded_workers=tuple(sorted(excluded & set(ledger.workers))),
        fooled_bonus=bonus,
    )


def _row_share(row_credit: RowCredit, rank: int, weight: int) -> RowShare:
    return RowShare(
        row_id=row_credit.row_id,
        paid_row_id=row_credit.paid_row_id,
        key=row_credit.key,
        rank=rank,
        weight=weight,
        fillers=row_credit.fillers,
        voters=row_credit.voters,
    )
