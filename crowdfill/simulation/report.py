"""The simulation report: CrowdFill and the microtask baseline side by side, and each worker's pay."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from crowdfill.simulation.quality import Quality


@dataclass(frozen=True)
class CrowdFillFigures:
    quality: Quality
    end: str
    operations: dict[str, int]
    rejected: dict[str, int]
    worker_actions: int
    wasted_actions: int
    duplicate_rows: int
    concurrent_fills: int
    central_inserts: int
    paid_cents: int
    unpaid_cents: int
    cost_per_correct_row_cents: float | None
    sim_seconds: float
    wall_seconds: float


@dataclass(frozen=True)
class BaselineFigures:
    quality: Quality
    k: int
    answer_cents: int
    answers: int
    unanswered_cells: int
    paid_cents: int
    cost_per_correct_row_cents: float | None
    sim_seconds: float


@dataclass(frozen=True)
class EqualSpend:
    """Both designs at the same budget: cents per correct row from what each one actually paid.

    ``budget_cents`` is what the CrowdFill run committed (by default the baseline's maximum, so both
    are offered the same money); CrowdFill's spend is its settlement's paid amount, the baseline's is
    its answers times the pay per answer. ``committed_cents_per_correct_row`` divides the whole
    committed budget instead, the figure for a table that pays all of its budget. ``cost_ratio`` is
    CrowdFill's cents per correct row over the baseline's (below 1: CrowdFill is cheaper).
    """

    budget_cents: int
    baseline_max_cents: int
    crowdfill_paid_cents: int
    baseline_paid_cents: int
    crowdfill_cents_per_correct_row: float | None
    committed_cents_per_correct_row: float | None
    baseline_cents_per_correct_row: float | None
    cost_ratio: float | None
    crowdfill_actions_per_correct_row: float | None
    baseline_answers_per_correct_row: float | None


@dataclass(frozen=True)
class WorkerLine:
    worker: str
    accuracy: float
    known_rows: int
    actions: int
    accepted: int
    right_actions: float | None
    useful_actions: int
    crowdfill_cents: int
    baseline_answers: int
    baseline_cents: int
    kind: str = "honest"


@dataclass(frozen=True)
class Report:
    settings: dict[str, Any]
    crowdfill: CrowdFillFigures
    baseline: BaselineFigures
    equal_spend: EqualSpend
    workers: tuple[WorkerLine, ...]
    pay_accuracy_correlation: float | None
    log_digest: str

    def to_dict(self, *, wall_clock: bool = True) -> dict[str, Any]:
        """The report as JSON-able data; ``wall_clock=False`` drops the one figure a seed does not fix."""
        data = asdict(self)
        data["workers"] = list(data["workers"])
        if not wall_clock:
            del data["crowdfill"]["wall_seconds"]
        return data


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when either side does not vary."""
    if len(xs) < 2:
        return None
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return round(sxy / math.sqrt(sxx * syy), 4)


# --------------------------------------------------------------------------- console rendering
def render(report: Report) -> str:
    cf, base = report.crowdfill, report.baseline
    lines = [
        _table(
            ["", "CrowdFill", f"Microtask (k={base.k})"],
            [
                ["rows in result", str(cf.quality.rows), str(base.quality.rows)],
                ["correct rows", str(cf.quality.correct_rows), str(base.quality.correct_rows)],
                ["precision", _pct(cf.quality.precision), _pct(base.quality.precision)],
                ["recall (template)", _pct(cf.quality.recall), _pct(base.quality.recall)],
                ["cell accuracy", _pct(cf.quality.cell_accuracy), _pct(base.quality.cell_accuracy)],
                ["worker actions / answers", str(cf.worker_actions), str(base.answers)],
                ["total paid", _money(cf.paid_cents), _money(base.paid_cents)],
                [
                    "cost per correct row",
                    _money(cf.cost_per_correct_row_cents),
                    _money(base.cost_per_correct_row_cents),
                ],
                ["time (simulated)", _duration(cf.sim_seconds), _duration(base.sim_seconds)],
            ],
        ),
        "",
        f"CrowdFill run: ended {cf.end!r} after {cf.wall_seconds:.2f} s of wall time",
        "  operations: " + ", ".join(f"{kind} {count}" for kind, count in cf.operations.items()),
        "  rejected: " + (", ".join(f"{code} {count}" for code, count in cf.rejected.items()) or "none"),
        f"  rows inserted by the central client: {cf.central_inserts}",
        f"  duplicated rows at the end: {cf.duplicate_rows} "
        f"(fills that landed on an already-replaced row: {cf.concurrent_fills})",
        f"  wasted work: {cf.wasted_actions} of {cf.worker_actions} worker actions "
        f"({_pct(cf.wasted_actions / cf.worker_actions if cf.worker_actions else None)})",
        f"  budget left unpaid: {_money(cf.unpaid_cents)}",
        f"  baseline cells left unanswered: {base.unanswered_cells}",
        "",
        _equal_spend(report.equal_spend),
        "",
        _table(
            ["worker", "accuracy", "knows", "actions", "right", "useful", "CrowdFill pay", "microtask pay"],
            [
                [
                    line.worker if line.kind == "honest" else f"{line.worker} ({line.kind})",
                    f"{line.accuracy:.2f}",
                    str(line.known_rows),
                    str(line.actions),
                    _pct(line.right_actions),
                    str(line.useful_actions),
                    _money(line.crowdfill_cents),
                    _money(line.baseline_cents),
                ]
                for line in report.workers
            ],
        ),
        f"pay vs accuracy (Pearson r, CrowdFill): {_number(report.pay_accuracy_correlation)}",
        f"operation log digest: {report.log_digest}",
    ]
    return "\n".join(lines)


def _equal_spend(spend: EqualSpend) -> str:
    return "\n".join(
        [
            f"At equal spend (budget committed {_money(spend.budget_cents)}; "
            f"the baseline's maximum {_money(spend.baseline_max_cents)}):",
            f"  paid: CrowdFill {_money(spend.crowdfill_paid_cents)}, "
            f"baseline {_money(spend.baseline_paid_cents)}",
            f"  cents per correct row: CrowdFill {_cents(spend.crowdfill_cents_per_correct_row)} "
            f"(whole budget: {_cents(spend.committed_cents_per_correct_row)}), "
            f"baseline {_cents(spend.baseline_cents_per_correct_row)}; "
            f"ratio {_ratio(spend.cost_ratio)}",
            f"  per correct row: {_ratio(spend.crowdfill_actions_per_correct_row)} worker actions, "
            f"{_ratio(spend.baseline_answers_per_correct_row)} baseline answers",
        ]
    )


def _cents(cents: float | None) -> str:
    return "n/a" if cents is None else f"{cents:.1f}c"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _money(cents: float | None) -> str:
    return "n/a" if cents is None else f"${cents / 100:,.2f}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
