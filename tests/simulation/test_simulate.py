"""Whole in-process runs: reproducible, right with a perfect crowd, sensitive to the scoring."""

from __future__ import annotations

import statistics

import pytest

from crowdfill.central_client import CentralClient
from crowdfill.model import CandidateTable, Insert, Reweigh, Scoring
from crowdfill.quality import ReputationSettings
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.defaults import DEFAULT_SIMULATION_SCORING
from crowdfill.simulation.engine import Limits
from crowdfill.simulation.gold import make_gold
from crowdfill.simulation.simulate import Simulation, SimulationConfig, simulate
from crowdfill.simulation.streams import stream

PERFECT = CrowdSettings(accuracy=(1.0, 1.0))
EIGHTY = CrowdSettings(accuracy=(0.8, 0.8))


def _run(
    seed: int,
    *,
    crowd: CrowdSettings | None = None,
    scoring: Scoring | None = None,
    template: str = "keys:10",
    limits: Limits | None = None,
) -> Simulation:
    config = SimulationConfig(
        seed=seed,
        crowd=crowd or CrowdSettings(),
        scoring=scoring or Scoring(),
        template=template,
        limits=limits or Limits(),
    )
    return simulate(config)


def test_the_same_seed_gives_the_same_operation_log_and_the_same_report() -> None:
    first = _run(7, crowd=EIGHTY)
    second = _run(7, crowd=EIGHTY)
    assert first.run.log == second.run.log
    assert first.run.attempts == second.run.attempts
    assert first.report.to_dict(wall_clock=False) == second.report.to_dict(wall_clock=False)


def test_different_seeds_give_different_runs() -> None:
    assert _run(1).report.log_digest != _run(2).report.log_digest


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_with_perfectly_accurate_workers_the_final_table_is_the_truth_restricted_to_the_template(
    seed: int,
) -> None:
    simulation = _run(seed, crowd=PERFECT, template="keys:8")
    final = {row.values for row in simulation.run.table.final_table()}
    assert simulation.run.end == "satisfied"
    assert final == set(simulation.truth.restricted_to(simulation.template))
    assert simulation.report.crowdfill.quality.precision == 1.0
    assert simulation.report.crowdfill.quality.recall == 1.0


def test_with_perfectly_accurate_workers_an_open_template_is_filled_with_true_rows_only() -> None:
    simulation = _run(5, crowd=PERFECT, template="paper")
    table = simulation.run.table
    assert simulation.run.end == "satisfied"
    assert table.closed
    assert all(simulation.truth.contains(row.values) for row in table.final_table())
    assert simulation.template.matching((row.row_id, row.values) for row in table.final_table()) is not None


def test_with_eighty_percent_accurate_workers_precision_is_reported() -> None:
    quality = _run(3, crowd=EIGHTY).report.crowdfill.quality
    assert quality.precision is not None
    assert 0.0 <= quality.precision <= 1.0
    assert quality.rows > 0


def test_stricter_scoring_gives_higher_precision_with_eighty_percent_accurate_workers() -> None:
    seeds = range(10)
    lenient = Scoring("difference")
    strict = Scoring("threshold", min_votes=4)

    def mean_precision(scoring: Scoring) -> float:
        runs = [_run(seed, crowd=EIGHTY, scoring=scoring).report.crowdfill.quality for seed in seeds]
        return statistics.mean(quality.precision or 0.0 for quality in runs)

    assert mean_precision(strict) >= mean_precision(lenient) + 0.03


def test_every_logged_operation_is_one_the_model_accepts_when_replayed_in_order() -> None:
    simulation = _run(11, crowd=EIGHTY)
    replica = CandidateTable(simulation.truth.schema, Scoring(), simulation.template)
    for entry in simulation.run.log:
        assert not isinstance(entry.operation, Reweigh)  # threshold scoring: no reweighs
        replica.apply(entry.operation)
    assert replica.fingerprint() == simulation.run.table.fingerprint()
    assert [entry.seq for entry in simulation.run.log] == list(range(1, len(simulation.run.log) + 1))


def test_the_central_client_is_the_only_inserter_and_its_inserts_are_counted() -> None:
    simulation = _run(4, crowd=EIGHTY)
    inserts = [entry.operation for entry in simulation.run.log if isinstance(entry.operation, Insert)]
    assert all(op.worker == "central" for op in inserts)
    assert simulation.report.crowdfill.central_inserts == len(inserts) >= len(simulation.template)


def test_the_report_adds_up() -> None:
    simulation = _run(6, crowd=CrowdSettings(accuracy=(0.7, 0.95)))
    report = simulation.report
    crowdfill = report.crowdfill
    assert sum(crowdfill.operations.values()) == len(simulation.run.log)
    assert crowdfill.worker_actions == sum(line.actions for line in report.workers)
    assert crowdfill.wasted_actions == crowdfill.worker_actions - sum(
        line.useful_actions for line in report.workers
    )
    assert crowdfill.paid_cents == sum(line.crowdfill_cents for line in report.workers)
    assert crowdfill.paid_cents + crowdfill.unpaid_cents == report.settings["budget_cents"]
    assert report.baseline.paid_cents == report.baseline.answers * report.baseline.answer_cents
    assert report.baseline.answers == sum(line.baseline_answers for line in report.workers)
    if crowdfill.cost_per_correct_row_cents is not None:
        assert crowdfill.cost_per_correct_row_cents == pytest.approx(
            crowdfill.paid_cents / crowdfill.quality.correct_rows, abs=0.01
        )


def test_a_run_stops_at_the_step_limit() -> None:
    simulation = _run(2, crowd=EIGHTY, limits=Limits(max_steps=15))
    assert simulation.run.end == "step limit"
    assert len(simulation.run.attempts) == 15
    assert not simulation.run.table.closed


def test_a_run_stops_at_the_time_limit() -> None:
    simulation = _run(2, crowd=EIGHTY, limits=Limits(max_seconds=30.0))
    assert simulation.run.end == "time limit"
    assert simulation.run.sim_seconds <= 30.0


def test_a_crowd_that_cannot_finish_stalls_instead_of_running_forever() -> None:
    lonely = CrowdSettings(workers=1, knowledge=(0.2, 0.2), accuracy=(1.0, 1.0))
    simulation = _run(0, crowd=lonely, scoring=Scoring("threshold", min_votes=3))
    assert simulation.run.end == "stalled"
    assert simulation.report.crowdfill.quality.recall < 1.0


def test_a_satisfied_run_pays_the_whole_budget_and_a_run_stopped_early_keeps_some() -> None:
    done = _run(6, crowd=CrowdSettings(accuracy=(0.7, 0.95)))
    assert done.run.end == "satisfied"
    # the keys:10 template supplied every key value; their share goes to the workers too
    assert done.report.crowdfill.paid_cents == done.report.settings["budget_cents"]
    assert done.report.crowdfill.unpaid_cents == 0
    stopped = _run(2, crowd=EIGHTY, limits=Limits(max_steps=15))
    assert stopped.run.end == "step limit"
    assert stopped.report.crowdfill.unpaid_cents > 0


def test_equal_spend_compares_what_each_design_paid_at_the_same_budget() -> None:
    report = _run(3, crowd=EIGHTY).report
    spend, cf, base = report.equal_spend, report.crowdfill, report.baseline
    assert spend.budget_cents == spend.baseline_max_cents == report.settings["budget_cents"]
    assert spend.crowdfill_paid_cents == cf.paid_cents
    assert spend.baseline_paid_cents == base.answers * base.answer_cents
    mine = spend.crowdfill_paid_cents / cf.quality.correct_rows
    theirs = spend.baseline_paid_cents / base.quality.correct_rows
    assert spend.cost_ratio == pytest.approx(mine / theirs, abs=1e-3)
    assert spend.committed_cents_per_correct_row == pytest.approx(
        spend.budget_cents / cf.quality.correct_rows, abs=0.01
    )
    assert spend.crowdfill_actions_per_correct_row == pytest.approx(
        cf.worker_actions / cf.quality.correct_rows, abs=0.01
    )


def test_spammers_and_a_ring_lower_the_precision_of_todays_scoring() -> None:
    honest = [_run(seed, crowd=EIGHTY).report.crowdfill.quality.precision or 0.0 for seed in range(4)]
    hostile = CrowdSettings(accuracy=(0.8, 0.8), spammers=0.3, ring=3)
    attacked = [_run(seed, crowd=hostile).report for seed in range(4)]
    assert statistics.fmean(r.crowdfill.quality.precision or 0.0 for r in attacked) < statistics.fmean(honest)
    kinds = {line.kind for report in attacked for line in report.workers}
    assert kinds == {"honest", "spammer", "ring"}


def test_under_reputation_scoring_the_log_holds_the_reweighs_and_replays_to_the_same_table() -> None:
    hostile = CrowdSettings(accuracy=(0.8, 0.8), spammers=0.2, ring=3)
    simulation = _run(1, crowd=hostile, scoring=Scoring("reputation"))
    reweighs = [entry.operation for entry in simulation.run.log if isinstance(entry.operation, Reweigh)]
    assert reweighs
    assert simulation.report.crowdfill.operations["reweigh"] == len(reweighs)
    spammers = {line.worker for line in simulation.report.workers if line.kind == "spammer"}
    assert spammers & {op.worker for op in reweighs if op.weight == 0.0}
    replica = CandidateTable(simulation.truth.schema, Scoring("reputation"), simulation.template)
    for entry in reversed(simulation.run.log):  # any order: the highest version of each reweigh wins
        replica.integrate(entry.operation)
    assert replica.fingerprint() == simulation.run.table.fingerprint()


def test_gold_rows_are_inserted_judge_the_voters_and_stay_out_of_the_measured_table() -> None:
    config = SimulationConfig(seed=2, crowd=EIGHTY, scoring=Scoring("reputation"), template="keys:5", gold=6)
    with_gold = simulate(config)
    inserted = {entry.operation.values for entry in with_gold.run.log if isinstance(entry.operation, Insert)}
    gold = make_gold(with_gold.truth, with_gold.template, 6, stream(2, "gold"))
    assert set(gold) <= inserted
    assert sorted(gold.values()) == [False] * 3 + [True] * 3
    final = with_gold.run.table.final_table()
    # Inserted with the gold flag, as the server does: votable, but never in the final table.
    gold_ids = with_gold.run.table.gold_ids()
    assert {with_gold.run.table.row(row_id).values for row_id in gold_ids} == set(gold)
    assert not any(row.values in gold for row in final)
    assert any(with_gold.run.table.upvoters(row_id) for row_id in gold_ids)  # workers voted on them
    assert with_gold.report.crowdfill.quality.rows == len(final)
    assert with_gold.report.settings["gold_rows"] == 6


def test_the_default_reputation_scoring_beats_todays_scoring_against_spammers_and_a_ring() -> None:
    # Small and few seeds, to stay fast; bench/quality.py measures the same at full size.
    hostile = CrowdSettings(workers=12, accuracy=(0.8, 0.8), spammers=0.2, ring=3)
    limits = Limits(max_steps=600)

    def precision(scoring: Scoring) -> float:
        reports = [
            _run(seed, crowd=hostile, scoring=scoring, template="keys:5", limits=limits).report
            for seed in range(3)
        ]
        return statistics.fmean(report.crowdfill.quality.precision or 0.0 for report in reports)

    assert SimulationConfig().scoring == DEFAULT_SIMULATION_SCORING
    assert DEFAULT_SIMULATION_SCORING.family == "reputation"
    assert precision(DEFAULT_SIMULATION_SCORING) > precision(Scoring())


def test_the_consensus_estimator_is_reproducible_and_quarantines_adversaries() -> None:
    hostile = CrowdSettings(workers=12, accuracy=(0.8, 0.8), spammers=0.2, ring=3)
    config = SimulationConfig(
        seed=1,
        crowd=hostile,
        template="keys:5",
        limits=Limits(max_steps=600),
        reputation=ReputationSettings(estimator="consensus"),
    )
    first, second = simulate(config), simulate(config)
    assert first.report.log_digest == second.report.log_digest
    adversaries = {line.worker for line in first.report.workers if line.kind != "honest"}
    quarantined = {
        entry.operation.worker
        for entry in first.run.log
        if isinstance(entry.operation, Reweigh) and entry.operation.weight == 0.0
    }
    assert quarantined & adversaries
    honest = {line.worker for line in first.report.workers if line.kind == "honest"}

    def muted(workers: set[str]) -> float:
        return sum(first.run.table.weight(worker) == 0.0 for worker in workers) / len(workers)

    # At the end, adversaries are quarantined far more often than honest workers.
    assert muted(adversaries) > muted(honest)


@pytest.mark.parametrize("seed", [5, 8])
def test_nothing_is_logged_after_the_operation_that_completes_a_reputation_table(seed: int) -> None:
    # The server's sequencer refuses a reweigh on a closed table (TableClosed); the simulator used to
    # sequence the reweighs due after the completing operation all the same, moving the final table.
    hostile = CrowdSettings(accuracy=(0.8, 0.8), spammers=0.2, ring=3)
    simulation = _run(seed, crowd=hostile, scoring=DEFAULT_SIMULATION_SCORING, limits=Limits(3000))
    assert simulation.run.end == "satisfied"
    replica = CandidateTable(simulation.truth.schema, DEFAULT_SIMULATION_SCORING, simulation.template)
    client = CentralClient(replica, lambda: "unused", close_when_satisfied=False)
    client.start()
    completed_at = None
    for entry in simulation.run.log:
        assert completed_at is None, f"seq {entry.seq} was logged after the table completed at {completed_at}"
        client.observe(replica.integrate(entry.operation))
        if client.satisfied:
            completed_at = entry.seq
    assert completed_at == simulation.run.log[-1].seq
    assert replica.fingerprint() == simulation.run.table.fingerprint()
