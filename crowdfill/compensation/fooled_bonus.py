"""The bonus for rows that fooled the model in the loop (dynamic adversarial data collection).

A requester who sets ``fooled_bonus_share`` f > 0 sets ``floor(B * f)`` cents of the budget aside
as a bonus pool. A final row fooled the model when the model's prediction of one of its columns
(an ``annotate`` operation in the log) holds another value than the row: the crowd confirmed a row
the model got wrong. The pool is split equally over those rows, and each row's part equally over
the workers who entered its values (template values earn nothing, so a DADC row's part goes to the
worker who wrote its text). The rest of the budget is split as usual. A table without a fooled
row sets nothing aside: the whole budget goes to the ordinary split.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from crowdfill.compensation.credit import RowCredit
from crowdfill.compensation.rounding import largest_remainder
from crowdfill.compensation.settings import CompensationSettings
from crowdfill.model.row import Row
from crowdfill.model.table import CandidateTable


@dataclass(frozen=True)
class FooledBonus:
    """The bonus pool of one settlement and how it was paid (empty when nothing was set aside)."""

    share: Fraction
    pool_cents: int
    rows: tuple[str, ...]  # the fooled rows' ids, in settlement order
    payments: dict[str, int]  # worker -> cents; sums to pool_cents
    exact: dict[str, Fraction]  # worker -> exact cents before rounding

    def to_dict(self) -> dict[str, object]:
        return {
            "share": float(self.share),
            "pool_cents": self.pool_cents,
            "rows": list(self.rows),
            "payments": dict(self.payments),
        }


NO_BONUS = FooledBonus(Fraction(0), 0, (), {}, {})


def fooled(table: CandidateTable, row: Row) -> bool:
    """Whether the model predicted one of ``row``'s columns as another value than the row holds."""
    for column, value in row.values:
        prediction = table.annotation(row.values, "prediction", column)
        if prediction is not None and prediction.value != value:
            return True
    return False


def fooled_bonus(
    table: CandidateTable,
    rows: Iterable[tuple[Row, RowCredit]],
    settings: CompensationSettings,
) -> FooledBonus:
    """The pool and its split over the fooled rows among ``rows`` (final rows with their credit)."""
    share = settings.fooled_bonus_fraction
    if share == 0:
        return NO_BONUS
    parts: list[tuple[str, tuple[str, ...]]] = []
    for row, row_credit in rows:
        writers = tuple(sorted({w for _, w in row_credit.fillers if w is not None}))
        if writers and fooled(table, row):
            parts.append((row_credit.row_id, writers))
    if not parts:
        return FooledBonus(share, 0, (), {}, {})
    pool = math.floor(settings.budget_cents * share)
    # Each row is worth `units` units, split equally among its writers: integers throughout.
    units = math.lcm(*(len(writers) for _, writers in parts))
    earned: dict[str, int] = {}
    for _, writers in parts:
        for worker in writers:
            earned[worker] = earned.get(worker, 0) + units // len(writers)
    total = units * len(parts)
    return FooledBonus(
        share=share,
        pool_cents=pool,
        rows=tuple(row_id for row_id, _ in parts),
        payments=largest_remainder(dict(sorted(earned.items())), pool, total),
        exact={worker: Fraction(pool * amount, total) for worker, amount in earned.items()},
    )
