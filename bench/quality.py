"""Data quality and cost of CrowdFill against the microtask baseline, over seeds, per scoring.

Scenarios (template ``keys:10``, generated SoccerPlayer truth of 60 rows, default compensation):

- **honest**: 20 workers at 80 % accuracy;
- **adversarial**: the same 20 plus spammers making 20 % of the crowd and a colluding ring of 3.

For each scoring and scenario, seeds 0-9 (``--quick``: 0-2) run ``crowdfill.simulation.simulate``
in-process, each stopped after 3,000 worker actions if the table is not complete by then.
Figures: mean precision of the final table over seeds (a run with an empty final table counts as
precision 0); ``cost_ratio_equal_spend``: CrowdFill's cents per correct row over
the baseline's, both offered the same budget (the baseline's maximum) and each counted at what it
paid (CrowdFill: the settlement's paid amount), pooled over seeds (total paid / total correct rows);
``committed_cost_ratio``: the same with CrowdFill's whole committed budget as its spend;
``actions_per_correct_row``: CrowdFill worker actions per correct final row, pooled, beside the
baseline's answers per correct row.

Scorings: today's default (threshold, min_votes 2), threshold with min_votes 3, and ``reputation``
(votes weighted by the estimator of ``crowdfill.quality``, the simulator sequencing the reweighs as
the server would) with min_votes 2 and 3, the last also with 6 gold rows (``--gold``).

Usage: ``python bench/quality.py [--quick] [--seeds N]``. The last line printed is one JSON object:
each figure maps a scoring's name to its value (today's default first).
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass

from crowdfill.model import Scoring
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.engine import Limits
from crowdfill.simulation.simulate import SimulationConfig, simulate

# Spammers always find something to do, so a run that cannot finish does not stall: it would go
# on to the default 20,000 actions. 3,000 is over ten times what a finishing run takes.
LIMITS = Limits(max_steps=3000)
SCENARIOS: dict[str, CrowdSettings] = {
    "honest": CrowdSettings(accuracy=(0.8, 0.8)),
    "adversarial": CrowdSettings(accuracy=(0.8, 0.8), spammers=0.2, ring=3),
}


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    cost_ratio: float | None
    committed_cost_ratio: float | None
    actions_per_correct_row: float | None
    baseline_answers_per_correct_row: float | None
    baseline_precision: float
    satisfied: int
    runs: int


def scorings() -> dict[str, tuple[Scoring, int]]:
    """Today's default first, then the scorings worth comparing against it (with gold rows to mix in)."""
    return {
        "threshold (today)": (Scoring(), 0),
        "threshold, min_votes 3": (Scoring("threshold", 3), 0),
        "reputation": (Scoring("reputation"), 0),
        "reputation, min_votes 3": (Scoring("reputation", 3), 0),
        "reputation, min_votes 3, 6 gold": (Scoring("reputation", 3), 6),
    }


def measure(scoring: Scoring, crowd: CrowdSettings, seeds: range, gold: int = 0) -> Figures:
    precision, recall, base_precision = [], [], []
    paid = correct = base_paid = base_correct = actions = answers = committed = satisfied = 0
    for seed in seeds:
        config = SimulationConfig(seed=seed, crowd=crowd, scoring=scoring, gold=gold, limits=LIMITS)
        report = simulate(config).report
        cf, base, spend = report.crowdfill, report.baseline, report.equal_spend
        precision.append(cf.quality.precision or 0.0)
        recall.append(cf.quality.recall)
        base_precision.append(base.quality.precision or 0.0)
        paid += spend.crowdfill_paid_cents
        committed += spend.budget_cents
        base_paid += spend.baseline_paid_cents
        correct += cf.quality.correct_rows
        base_correct += base.quality.correct_rows
        actions += cf.worker_actions
        answers += base.answers
        satisfied += cf.end == "satisfied"
    base_cost = base_paid / base_correct if base_correct else None
    return Figures(
        precision=round(statistics.fmean(precision), 4),
        recall=round(statistics.fmean(recall), 4),
        cost_ratio=_ratio(paid, correct, base_cost),
        committed_cost_ratio=_ratio(committed, correct, base_cost),
        actions_per_correct_row=round(actions / correct, 2) if correct else None,
        baseline_answers_per_correct_row=round(answers / base_correct, 2) if base_correct else None,
        baseline_precision=round(statistics.fmean(base_precision), 4),
        satisfied=satisfied,
        runs=len(seeds),
    )


def _ratio(cents: int, rows: int, base_cost: float | None) -> float | None:
    if not rows or not base_cost:
        return None
    return round(cents / rows / base_cost, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seeds 0-2 only")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (10)")
    args = parser.parse_args()
    seeds = range(3 if args.quick else args.seeds)
    results: dict[str, dict[str, Figures]] = {}
    print(
        f"{'scoring':<32} {'scenario':<12} {'precision':>9} {'recall':>6} {'cost ratio':>10} "
        f"{'committed':>9} {'actions/row':>11} {'answers/row':>11} {'microtask prec.':>15} satisfied"
    )
    for name, (scoring, gold) in scorings().items():
        for scenario, crowd in SCENARIOS.items():
            figures = measure(scoring, crowd, seeds, gold)
            results.setdefault(name, {})[scenario] = figures
            print(
                f"{name:<32} {scenario:<12} {figures.precision:>9.3f} {figures.recall:>6.2f} "
                f"{_show(figures.cost_ratio):>10} {_show(figures.committed_cost_ratio):>9} "
                f"{_show(figures.actions_per_correct_row):>11} "
                f"{_show(figures.baseline_answers_per_correct_row):>11} "
                f"{figures.baseline_precision:>15.3f} {figures.satisfied}/{figures.runs}"
            )
    summary = {
        "seeds": len(seeds),
        "precision_honest": {n: r["honest"].precision for n, r in results.items()},
        "precision_adversarial": {n: r["adversarial"].precision for n, r in results.items()},
        "cost_ratio_equal_spend": {n: r["honest"].cost_ratio for n, r in results.items()},
        "cost_ratio_equal_spend_adversarial": {n: r["adversarial"].cost_ratio for n, r in results.items()},
        "committed_cost_ratio": {n: r["honest"].committed_cost_ratio for n, r in results.items()},
        "actions_per_correct_row": {n: r["honest"].actions_per_correct_row for n, r in results.items()},
        "baseline_answers_per_correct_row": {
            n: r["honest"].baseline_answers_per_correct_row for n, r in results.items()
        },
        "microtask_precision": {s: results[next(iter(results))][s].baseline_precision for s in SCENARIOS},
    }
    print(json.dumps(summary))


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
