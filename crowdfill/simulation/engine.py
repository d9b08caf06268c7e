"""The in-process mode: one candidate table, the central client, and simulated workers on a
simulated clock (an event queue). Deterministic: every random draw comes from ``random.Random``
instances seeded from the run's seed, and ties on the clock break by a counter.

A worker looks at the table, decides, thinks for a while, then submits; meanwhile others may have
changed the table, so a fill can land on a row that was already replaced (the model then keeps both
rows: duplication, never overwriting) and a vote can be refused. Every worker operation goes through
``CandidateTable.validate`` exactly as the server would apply it.
"""

from __future__ import annotations

import functools
import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from crowdfill.model import (
    CandidateTable,
    CrowdFillError,
    Event,
    Insert,
    Operation,
    Reweigh,
    Scoring,
    Template,
    Values,
)
from crowdfill.quality import ReputationSettings, due_reweighs
from crowdfill.quality.reputation import DEFAULT_SETTINGS
from crowdfill.quality.reweigh import DEFAULT_STEP
from crowdfill.simulation.adversaries import behaviours
from crowdfill.simulation.behaviour import Action, Kind
from crowdfill.simulation.crowd import WorkerProfile
from crowdfill.simulation.streams import stream
from crowdfill.simulation.truth import Truth

EndReason = Literal["satisfied", "step limit", "time limit", "stalled"]


class CentralClientPort(Protocol):
    """What the simulation needs of ``crowdfill.central_client.CentralClient``."""

    def start(self) -> list[Insert]: ...

    def observe(self, events: list[Event]) -> list[Insert]: ...

    @property
    def satisfied(self) -> bool: ...


CentralFactory = Callable[[CandidateTable, Callable[[], str]], CentralClientPort]


class Progress(Protocol):
    def __call__(self, done: int, total: int, sim_seconds: float) -> None: ...


@dataclass(frozen=True)
class Limits:
    max_steps: int = 20_000
    max_seconds: float = 30 * 24 * 3600.0

    def __post_init__(self) -> None:
        if self.max_steps < 1 or not self.max_seconds > 0:
            raise ValueError("limits must be positive")


@dataclass(frozen=True)
class LoggedOperation:
    """An accepted operation in sequence order, in canonical (validated) form; under ``reputation``
    scoring the log also holds the reweighs the server's estimator sequenced."""

    seq: int
    at: float
    operation: Operation | Reweigh


@dataclass(frozen=True)
class Attempt:
    """A worker's submitted action and what became of it."""

    at: float
    worker: str
    kind: Kind
    correct: bool
    accepted: bool
    error: str | None
    stale: bool
    seq: int | None


@dataclass(frozen=True)
class RunResult:
    table: CandidateTable
    log: tuple[LoggedOperation, ...]
    attempts: tuple[Attempt, ...]
    end: EndReason
    sim_seconds: float
    wall_seconds: float


def run_in_process(
    truth: Truth,
    scoring: Scoring,
    template: Template,
    crowd: tuple[WorkerProfile, ...],
    seed: int,
    central: CentralFactory,
    limits: Limits = Limits(),
    progress: Progress | None = None,
    gold: Mapping[Values, bool] | None = None,
    reputation: ReputationSettings = DEFAULT_SETTINGS,
    step: float = DEFAULT_STEP,
) -> RunResult:
    run = _Run(truth, scoring, template, crowd, seed, central, limits, progress, gold or {})
    run.reputation, run.step = reputation, step
    return run.run()


class _Run:
    def __init__(
        self,
        truth: Truth,
        scoring: Scoring,
        template: Template,
        crowd: tuple[WorkerProfile, ...],
        seed: int,
        central: CentralFactory,
        limits: Limits,
        progress: Progress | None,
        gold: Mapping[Values, bool],
    ) -> None:
        self.table = CandidateTable(truth.schema, scoring, template)
        self.gold = dict(gold)
        self.reputation = DEFAULT_SETTINGS
        self.step = DEFAULT_STEP
        self.crowd = crowd
        self.limits = limits
        self.progress = progress
        self.clock_rng = stream(seed, "clock")
        self.behaviours = behaviours(crowd, truth, seed)
        self.counters: dict[str, int] = {}
        self.central = central(self.table, lambda: self._fresh_id("c"))
        self.log: list[LoggedOperation] = []
        self.attempts: list[Attempt] = []
        self.now = 0.0
        self.version = 0

    def _fresh_id(self, prefix: str) -> str:
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        return f"{prefix}-{number}"

    def run(self) -> RunResult:
        started = time.perf_counter()
        self._central_inserts(self.central.start())
        # Gold rows enter as the server adds them (crowdfill.server.gold): ``Insert(gold=True)``, in no
        # key group, so never final; to the simulated workers they are rows like any other.
        for values in self.gold:
            insert = self.table.validate(Insert(self._fresh_id("c"), values, gold=True))
            self._record(insert)
            self._central_inserts(self.central.observe(self.table.integrate(insert)))
        queue: list[tuple[float, int, int]] = []
        pending: list[Action | None] = [None] * len(self.crowd)
        idle_at: list[int | None] = [None] * len(self.crowd)
        order = 0
        for index, profile in enumerate(self.crowd):
            heapq.heappush(queue, (self.clock_rng.uniform(0.0, profile.think), order, index))
            order += 1
        end: EndReason = "stalled"
        steps = looks = 0
        while queue and not self._satisfied():
            at, _, index = heapq.heappop(queue)
            if at > self.limits.max_seconds:
                end = "time limit"
                break
            self.now = at
            action = pending[index]
            if action is not None:
                if steps >= self.limits.max_steps:
                    end = "step limit"
                    break
                steps += 1
                self._submit(action)
                if self._satisfied():
                    break
            profile = self.crowd[index]
            behaviour = self.behaviours[index]
            pending[index] = behaviour.decide(self.table, functools.partial(self._fresh_id, profile.worker))
            idle_at[index] = self.version if pending[index] is None else None
            if all(mark == self.version for mark in idle_at):
                end = "stalled"
                break
            delay = max(1.0, self.clock_rng.expovariate(1.0 / profile.think))
            heapq.heappush(queue, (at + delay, order, index))
            order += 1
            looks += 1
            if self.progress is not None and looks % 25 == 0:
                self._report_progress()
        if self._satisfied():
            end = "satisfied"
            if not self.table.closed:
                self.table.close()
        self._report_progress()
        return RunResult(
            self.table,
            tuple(self.log),
            tuple(self.attempts),
            end,
            self.now,
            time.perf_counter() - started,
        )

    def _satisfied(self) -> bool:
        return self.table.closed or self.central.satisfied

    def _report_progress(self) -> None:
        if self.progress is not None:
            total = len(self.table.template)
            self.progress(min(total, len(self.table.final_table())), total, self.now)

    def _submit(self, action: Action) -> None:
        op = action.operation
        stale = op.row_id not in self.table
        correct = action.correct
        try:
            canonical = self.table.validate(op)
        except CrowdFillError as error:
            self.attempts.append(
                Attempt(self.now, op.worker, action.kind, correct, False, error.code, stale, None)
            )
            return
        seq = self._record(canonical)
        self.attempts.append(Attempt(self.now, op.worker, action.kind, correct, True, None, stale, seq))
        self._central_inserts(self.central.observe(self.table.integrate(canonical)))
        # The consensus estimate reads only the votes, so a fill cannot change what it calls for.
        # A closed table takes no reweigh (the server's sequencer refuses one, TableClosed): the
        # final table stays the one that satisfied the template.
        if (
            self.table.scoring.family == "reputation"
            and not self.table.closed
            and not (action.kind == "fill" and self.reputation.estimator == "consensus")
        ):
            self._reweigh()

    def _reweigh(self) -> None:
        """What the server does after each operation under ``reputation`` scoring: sequence the
        reweighs the estimates call for, and let the central client see their rescoring."""
        for _ in range(10):  # a reweigh can change the final table and so the estimates; settle
            if self.table.closed:
                return
            due = due_reweighs(self.table, self.gold, self.reputation, self.step)
            if not due:
                return
            events: list[Event] = []
            for reweigh in due:
                self._record(reweigh)
                events.extend(self.table.integrate(reweigh))
            self._central_inserts(self.central.observe(events))

    def _record(self, operation: Operation | Reweigh) -> int:
        seq = len(self.log) + 1
        self.log.append(LoggedOperation(seq, self.now, operation))
        self.version += 1
        return seq

    def _central_inserts(self, inserts: list[Insert]) -> None:
        """Apply a batch of the central client's inserts, then show it all their events at once."""
        batch = inserts
        while batch:
            events: list[Event] = []
            for insert in batch:
                canonical = self.table.validate(insert)
                self._record(canonical)
                events.extend(self.table.integrate(canonical))
            batch = self.central.observe(events)
            if len(self.log) > 50 * self.limits.max_steps:
                raise RuntimeError("the central client keeps inserting rows; stopping the simulation")
