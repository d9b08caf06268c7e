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

Scorings: today's default (threshold, min_votes 2) and the simulator's default ("default":
``reputation`` with min_votes 3, votes weighted by the estimator of ``crowdfill.quality``, the
simulator sequencing the reweighs as the server would). ``--all`` adds threshold with min_votes 3,
reputation with the consensus (Dawid-Skene) estimator, and reputation with 6 gold rows.

Usage: ``python bench/quality.py [--quick] [--seeds N] [--all] [--jobs N]``. Runs are
deterministic, so ``--jobs`` (parallel processes, 2) changes no figure. The last line printed is
one JSON object: each figure maps a scoring's name to its value (today's default first).
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from crowdfill.model import Scoring
from crowdfill.quality import ReputationSettings
from crowdfill.quality.reputation import DEFAULT_SETTINGS
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.defaults import DEFAULT_SIMULATION_SCORING
from crowdfill.simulation.engine import Limits
from crowdfill.simulation.report import Report
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


def scorings(everything: bool = False) -> dict[str, tuple[Scoring, int, ReputationSettings]]:
    """Today's default first, then the simulator's default; with ``everything``, the other scorings
    worth comparing (vote gates, the outcome estimator, gold rows)."""
    chosen = {
        "threshold (today)": (Scoring(), 0, DEFAULT_SETTINGS),
        "default": (DEFAULT_SIMULATION_SCORING, 0, DEFAULT_SETTINGS),
    }
    if everything:
        consensus = ReputationSettings(estimator="consensus")
        chosen |= {
            "threshold, min_votes 3": (Scoring("threshold", 3), 0, DEFAULT_SETTINGS),
            "reputation, min_votes 3, consensus estimator": (Scoring("reputation", 3), 0, consensus),
            "reputation, min_votes 3, 6 gold": (Scoring("reputation", 3), 6, DEFAULT_SETTINGS),
        }
    return chosen


@dataclass(frozen=True)
class Run:
    precision: float
    recall: float
    baseline_precision: float
    paid: int
    committed: int
    base_paid: int
    correct: int
    base_correct: int
    actions: int
    answers: int
    satisfied: bool


def _one(job: tuple[Scoring, int, CrowdSettings, int, ReputationSettings]) -> Run:
    scoring, gold, crowd, seed, reputation = job
    config = SimulationConfig(
        seed=seed, crowd=crowd, scoring=scoring, gold=gold, limits=LIMITS, reputation=reputation
    )
    return run_of(simulate(config).report)


def run_of(report: Report) -> Run:
    """The figures this benchmark keeps of one simulation's report (in-process or over sockets)."""
    cf, base, spend = report.crowdfill, report.baseline, report.equal_spend
    return Run(
        precision=cf.quality.precision or 0.0,
        recall=cf.quality.recall,
        baseline_precision=base.quality.precision or 0.0,
        paid=spend.crowdfill_paid_cents,
        committed=spend.budget_cents,
        base_paid=spend.baseline_paid_cents,
        correct=cf.quality.correct_rows,
        base_correct=base.quality.correct_rows,
        actions=cf.worker_actions,
        answers=base.answers,
        satisfied=cf.end == "satisfied",
    )


def measure(runs: list[Run]) -> Figures:
    correct, base_correct = sum(r.correct for r in runs), sum(r.base_correct for r in runs)
    base_paid = sum(r.base_paid for r in runs)
    base_cost = base_paid / base_correct if base_correct else None
    actions, answers = sum(r.actions for r in runs), sum(r.answers for r in runs)
    return Figures(
        precision=round(statistics.fmean(r.precision for r in runs), 4),
        recall=round(statistics.fmean(r.recall for r in runs), 4),
        cost_ratio=_ratio(sum(r.paid for r in runs), correct, base_cost),
        committed_cost_ratio=_ratio(sum(r.committed for r in runs), correct, base_cost),
        actions_per_correct_row=round(actions / correct, 2) if correct else None,
        baseline_answers_per_correct_row=round(answers / base_correct, 2) if base_correct else None,
        baseline_precision=round(statistics.fmean(r.baseline_precision for r in runs), 4),
        satisfied=sum(r.satisfied for r in runs),
        runs=len(runs),
    )


def _ratio(cents: int, rows: int, base_cost: float | None) -> float | None:
    if not rows or not base_cost:
        return None
    return round(cents / rows / base_cost, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seeds 0-2 only")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (10)")
    parser.add_argument("--all", action="store_true", help="also the other scorings worth comparing")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel processes (2)")
    args = parser.parse_args()
    seeds = range(3 if args.quick else args.seeds)
    chosen = scorings(args.all)
    jobs = [
        (scoring, gold, crowd, seed, reputation)
        for scoring, gold, reputation in chosen.values()
        for crowd in SCENARIOS.values()
        for seed in seeds
    ]
    # Each run is deterministic on its own, so running them in parallel changes no figure.
    with ProcessPoolExecutor(max(1, args.jobs)) as pool:
        done = iter(pool.map(_one, jobs))
    results: dict[str, dict[str, Figures]] = {}
    print(
        f"{'scoring':<32} {'scenario':<12} {'precision':>9} {'recall':>6} {'cost ratio':>10} "
        f"{'committed':>9} {'actions/row':>11} {'answers/row':>11} {'microtask prec.':>15} satisfied"
    )
    for name in chosen:
        for scenario in SCENARIOS:
            figures = measure([next(done) for _ in seeds])
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
