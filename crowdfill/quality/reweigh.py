"""When the server reweighs a worker: the reweighs a table's current state calls for.

The estimates come from the table's vote records judged against its gold rows and its final table
(``reputation``); a worker is reweighed when the weight their estimate earns differs from the one
the table holds by at least ``step``, or when it crosses the quarantine line (0 or not). Each
reweigh is one version above the one in force, so replicas agree whatever order they see them in.
Pure: the same table state gives the same reweighs.
"""

from __future__ import annotations

from collections.abc import Mapping

from crowdfill.model import CENTRAL_CLIENT, CandidateTable, Reweigh, Values
from crowdfill.quality.reputation import (
    DEFAULT_SETTINGS,
    Estimate,
    IncrementalEstimates,
    Outcome,
    ReputationSettings,
    earned_weight,
    estimate_workers,
)

DEFAULT_STEP = 0.25


def table_estimates(
    table: CandidateTable,
    gold: Mapping[Values, bool] | None = None,
    settings: ReputationSettings = DEFAULT_SETTINGS,
) -> dict[str, Estimate]:
    """Every voter's estimate on ``table`` (gold rows' values with their verdicts, if any)."""
    outcome = Outcome(frozenset(row.values for row in table.final_table()), gold)
    votes = [record for record in table.vote_record_set() if record[0] != CENTRAL_CLIENT]
    return estimate_workers(table.schema, votes, outcome, settings)


def due_reweighs(
    table: CandidateTable,
    gold: Mapping[Values, bool] | None = None,
    settings: ReputationSettings = DEFAULT_SETTINGS,
    step: float = DEFAULT_STEP,
    excluded: frozenset[str] = frozenset(),
) -> list[Reweigh]:
    """The reweighs to sequence now, by worker. ``excluded`` workers (by the requester) weigh 0."""
    estimates = table_estimates(table, gold, settings)
    earned = {worker: _earned(estimate, settings) for worker, estimate in estimates.items()}
    return reweighs_for(table, earned, step, excluded)


def _earned(estimate: Estimate, settings: ReputationSettings) -> float:
    return round(earned_weight(estimate, settings), 3)


def reweighs_for(
    table: CandidateTable,
    earned: Mapping[str, float],
    step: float = DEFAULT_STEP,
    excluded: frozenset[str] = frozenset(),
) -> list[Reweigh]:
    """``due_reweighs`` given the weight every voter's estimate earns (by worker, in worker order,
    rounded to 3 places)."""
    versions: dict[str, int] | None = None
    due = []
    for worker, weight in earned.items():
        wanted = 0.0 if worker in excluded else weight
        held = table.weight(worker)
        if abs(wanted - held) >= step or (wanted == 0.0) != (held == 0.0):
            if versions is None:
                versions = {op.worker: op.version for op in table.reweighs()}
            due.append(Reweigh(worker, wanted, versions.get(worker, 0) + 1))
    for worker in sorted(excluded - {op.worker for op in due}):
        if table.weight(worker) != 0.0:
            if versions is None:
                versions = {op.worker: op.version for op in table.reweighs()}
            due.append(Reweigh(worker, 0.0, versions.get(worker, 0) + 1))
    return due


class ReweighTracker:
    """``due_reweighs`` for one table, asked again and again: the same reweighs, with the estimates
    kept up to date from what changed since the last call (``IncrementalEstimates``) instead of
    judged again from every vote record. The ``consensus`` estimator is computed afresh."""

    def __init__(self, settings: ReputationSettings = DEFAULT_SETTINGS, step: float = DEFAULT_STEP) -> None:
        self.settings = settings
        self.step = step
        self._incremental: IncrementalEstimates | None = None
        # The weight each worker's estimate earns, with the estimate it was computed from.
        self._earned: dict[str, tuple[Estimate, float]] = {}

    def due(
        self,
        table: CandidateTable,
        gold: Mapping[Values, bool] | None = None,
        excluded: frozenset[str] = frozenset(),
    ) -> list[Reweigh]:
        settings = self.settings
        if settings.estimator != "outcome":
            return due_reweighs(table, gold, settings, self.step, excluded)
        incremental = self._incremental
        if incremental is None or incremental.schema != table.schema:
            incremental = self._incremental = IncrementalEstimates(table.schema, settings)
            self._earned = {}
        final = frozenset(row.values for row in table.final_table())
        votes = frozenset(record for record in table.vote_record_set() if record[0] != CENTRAL_CLIENT)
        known, earned = self._earned, {}
        for worker, estimate in incremental.estimates(votes, final, gold).items():
            cached = known.get(worker)
            if cached is None or cached[0] is not estimate:
                cached = known[worker] = (estimate, _earned(estimate, settings))
            earned[worker] = cached[1]
        return reweighs_for(table, earned, self.step, excluded)
