"""A whole simulated collection in-process, the microtask baseline beside it, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from crowdfill.central_client import CentralClient
from crowdfill.compensation import CompensationSettings, settle
from crowdfill.model import Reweigh, Scoring, Template, Values
from crowdfill.quality import ReputationSettings
from crowdfill.quality.reputation import DEFAULT_SETTINGS
from crowdfill.quality.reweigh import DEFAULT_STEP
from crowdfill.simulation.baseline import BaselineResult, run_microtask_baseline
from crowdfill.simulation.crowd import CrowdSettings, WorkerProfile, make_crowd
from crowdfill.simulation.defaults import DEFAULT_SIMULATION_SCORING
from crowdfill.simulation.engine import Limits, Progress, RunResult, run_in_process
from crowdfill.simulation.figures import log_digest, work_figures
from crowdfill.simulation.gold import make_gold
from crowdfill.simulation.quality import measure
from crowdfill.simulation.report import (
    BaselineFigures,
    CrowdFillFigures,
    EqualSpend,
    Report,
    WorkerLine,
    correlation,
)
from crowdfill.simulation.streams import stream
from crowdfill.simulation.truth import Truth, build_template, generate_soccer_truth


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a run depends on; with the same config (and truth) a run is the same run.

    ``budget_cents`` defaults to what the microtask baseline would pay at most: every answer it could
    ask for (one to name a key and k - 1 to check each named key cell, k per other cell) at
    ``answer_cents`` each.
    """

    seed: int = 0
    crowd: CrowdSettings = field(default_factory=CrowdSettings)
    scoring: Scoring = DEFAULT_SIMULATION_SCORING
    template: str = "keys:10"
    generated_rows: int = 60
    budget_cents: int | None = None
    growth: float = 1.1
    vote_share: float = 0.2
    baseline_k: int = 3
    answer_cents: int = 5
    limits: Limits = field(default_factory=Limits)
    gold: int = 0
    # How the simulated server estimates workers under ``reputation`` scoring (docs/quality.md).
    reputation: ReputationSettings = DEFAULT_SETTINGS
    reweigh_step: float = DEFAULT_STEP

    def __post_init__(self) -> None:
        if self.baseline_k < 1:
            raise ValueError("the baseline asks at least one worker per cell (k >= 1)")
        if self.answer_cents < 0 or (self.budget_cents is not None and self.budget_cents < 0):
            raise ValueError("amounts of money cannot be negative")


@dataclass(frozen=True)
class Simulation:
    truth: Truth
    template: Template
    crowd: tuple[WorkerProfile, ...]
    run: RunResult
    baseline: BaselineResult
    report: Report


def prepare(
    config: SimulationConfig, truth: Truth | None = None
) -> tuple[Truth, Template, tuple[WorkerProfile, ...]]:
    """The truth (given or generated), the template and the crowd of a run, from its seed."""
    seed = config.seed
    if truth is None:
        truth = generate_soccer_truth(config.generated_rows, stream(seed, "truth"))
    template = build_template(config.template, truth, stream(seed, "template"))
    crowd = make_crowd(truth, config.crowd, stream(seed, "crowd"))
    return truth, template, crowd


def default_budget(config: SimulationConfig, truth: Truth, template: Template) -> int:
    if config.budget_cents is not None:
        return config.budget_cents
    schema = truth.schema
    answers = 0
    for wanted in template.rows:
        given = {name for name, _ in wanted}
        fixed = schema.key_of(wanted) is not None
        named = given | set(schema.key)
        naming = 0 if fixed else 1 + (config.baseline_k - 1) * len(set(schema.key) - given)
        answers += naming + config.baseline_k * (len(schema.columns) - len(named))
    return answers * config.answer_cents


def simulate(
    config: SimulationConfig, truth: Truth | None = None, progress: Progress | None = None
) -> Simulation:
    truth, template, crowd = prepare(config, truth)
    gold = make_gold(truth, template, config.gold, stream(config.seed, "gold"))
    run = run_in_process(
        truth,
        config.scoring,
        template,
        crowd,
        config.seed,
        CentralClient,
        config.limits,
        progress,
        gold,
        config.reputation,
        config.reweigh_step,
    )
    budget = default_budget(config, truth, template)
    settlement = settle(
        run.table,
        [entry.operation for entry in run.log if not isinstance(entry.operation, Reweigh)],
        CompensationSettings(budget, growth=config.growth, vote_share=config.vote_share),
        completed=run.end == "satisfied",
    )
    return conclude(
        config,
        truth,
        template,
        crowd,
        run,
        settlement.payments,
        settlement.paid_cents,
        settlement.unpaid_cents,
        budget,
        gold=frozenset(gold),
    )


def conclude(
    config: SimulationConfig,
    truth: Truth,
    template: Template,
    crowd: tuple[WorkerProfile, ...],
    run: RunResult,
    payments: dict[str, int],
    paid_cents: int,
    unpaid_cents: int,
    budget_cents: int,
    mode: dict[str, Any] | None = None,
    gold: frozenset[Values] = frozenset(),
) -> Simulation:
    """A finished run (in-process or over sockets) with the microtask baseline beside it, reported."""
    baseline = run_microtask_baseline(
        truth, template, crowd, config.baseline_k, stream(config.seed, "baseline")
    )
    work = work_figures(run.table, run.log, run.attempts)
    # Gold rows are the requester's own: never part of the collected table.
    quality = measure(
        [row.values for row in run.table.final_table() if row.values not in gold], truth, template
    )
    crowdfill = CrowdFillFigures(
        quality=quality,
        end=run.end,
        operations=work.operations,
        rejected=work.rejected,
        worker_actions=work.worker_actions,
        wasted_actions=work.wasted_actions,
        duplicate_rows=work.duplicate_rows,
        concurrent_fills=work.concurrent_fills,
        central_inserts=work.central_inserts,
        paid_cents=paid_cents,
        unpaid_cents=unpaid_cents,
        cost_per_correct_row_cents=_per_row(paid_cents, quality.correct_rows),
        sim_seconds=round(run.sim_seconds, 3),
        wall_seconds=round(run.wall_seconds, 3),
    )
    base_quality = measure(baseline.rows, truth, template)
    base_paid = baseline.answers * config.answer_cents
    base = BaselineFigures(
        quality=base_quality,
        k=config.baseline_k,
        answer_cents=config.answer_cents,
        answers=baseline.answers,
        unanswered_cells=baseline.unanswered_cells,
        paid_cents=base_paid,
        cost_per_correct_row_cents=_per_row(base_paid, base_quality.correct_rows),
        sim_seconds=round(baseline.sim_seconds, 3),
    )
    lines = []
    for profile in crowd:
        mine = [attempt for attempt in run.attempts if attempt.worker == profile.worker]
        answers = baseline.answers_by_worker.get(profile.worker, 0)
        lines.append(
            WorkerLine(
                worker=profile.worker,
                accuracy=profile.accuracy,
                known_rows=len(profile.known),
                actions=len(mine),
                accepted=sum(1 for attempt in mine if attempt.accepted),
                right_actions=round(sum(a.correct for a in mine) / len(mine), 4) if mine else None,
                useful_actions=work.useful_by_worker.get(profile.worker, 0),
                crowdfill_cents=payments.get(profile.worker, 0),
                baseline_answers=answers,
                baseline_cents=answers * config.answer_cents,
                kind=profile.kind,
            )
        )
    report = Report(
        settings={**describe(config, truth, template, budget_cents), **(mode or {})},
        crowdfill=crowdfill,
        baseline=base,
        equal_spend=equal_spend(config, truth, template, budget_cents, crowdfill, base),
        workers=tuple(lines),
        pay_accuracy_correlation=correlation(
            [line.accuracy for line in lines], [float(line.crowdfill_cents) for line in lines]
        ),
        log_digest=log_digest(run.log),
    )
    return Simulation(truth, template, crowd, run, baseline, report)


def equal_spend(
    config: SimulationConfig,
    truth: Truth,
    template: Template,
    budget_cents: int,
    crowdfill: CrowdFillFigures,
    base: BaselineFigures,
) -> EqualSpend:
    """The two designs side by side at the same budget, each at what it paid (see ``EqualSpend``)."""
    correct, base_correct = crowdfill.quality.correct_rows, base.quality.correct_rows
    mine = _per_row(crowdfill.paid_cents, correct)
    theirs = _per_row(base.paid_cents, base_correct)
    return EqualSpend(
        budget_cents=budget_cents,
        baseline_max_cents=default_budget(replace(config, budget_cents=None), truth, template),
        crowdfill_paid_cents=crowdfill.paid_cents,
        baseline_paid_cents=base.paid_cents,
        crowdfill_cents_per_correct_row=mine,
        committed_cents_per_correct_row=_per_row(budget_cents, correct),
        baseline_cents_per_correct_row=theirs,
        cost_ratio=round(mine / theirs, 4) if mine is not None and theirs else None,
        crowdfill_actions_per_correct_row=_per_row(crowdfill.worker_actions, correct),
        baseline_answers_per_correct_row=_per_row(base.answers, base_correct),
    )


def describe(config: SimulationConfig, truth: Truth, template: Template, budget_cents: int) -> dict[str, Any]:
    crowd = config.crowd
    return {
        "mode": "in-process",
        "seed": config.seed,
        "truth_rows": len(truth),
        "columns": list(truth.schema.names),
        "key": list(truth.schema.key),
        "template": config.template,
        "template_rows": len(template),
        "workers": crowd.workers,
        "knowledge": list(crowd.knowledge),
        "accuracy": list(crowd.accuracy),
        "mix": list(crowd.mix),
        "think_seconds": crowd.think,
        "spammers": crowd.spammers,
        "upvoters": crowd.upvoters,
        "ring": crowd.ring,
        "sybils": crowd.sybils,
        "scoring": config.scoring.describe(),
        "budget_cents": budget_cents,
        "growth": config.growth,
        "vote_share": config.vote_share,
        "baseline_k": config.baseline_k,
        "answer_cents": config.answer_cents,
        "max_steps": config.limits.max_steps,
        "max_seconds": config.limits.max_seconds,
        "gold_rows": config.gold,
    }


def _per_row(cents: int, rows: int) -> float | None:
    return round(cents / rows, 2) if rows else None
