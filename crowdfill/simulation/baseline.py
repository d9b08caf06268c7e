"""The microtask baseline on the same crowd and truth: one question per cell, asked to k workers who
know the row, answers merged by majority vote; every answer is paid the same.

For a template row that does not fix a key, one worker who knows a fitting row first names its key
(an enumeration task, one paid answer; they are told which keys are taken); each named key cell is
then asked of k - 1 more workers who know that row and the majority of the k answers stands, so
keys are decided by a majority of k like every other cell. Key cells fixed by the template are not
asked. Workers answer with their accuracy, exactly as they fill cells in the CrowdFill run;
adversaries answer as their kind does (see ``reply``). Time assumes an ideal parallel schedule:
the enumeration phase lasts as long as the busiest worker's answers in it, then the cell phase
likewise.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from crowdfill.model import Column, Schema, Template, Value, Values
from crowdfill.simulation.crowd import WorkerProfile, answer, mistake
from crowdfill.simulation.truth import Truth


@dataclass(frozen=True)
class BaselineResult:
    rows: tuple[Values, ...]
    answers: int
    answers_by_worker: dict[str, int]
    unanswered_cells: int
    sim_seconds: float


def run_microtask_baseline(
    truth: Truth,
    template: Template,
    crowd: tuple[WorkerProfile, ...],
    k: int,
    rng: random.Random,
) -> BaselineResult:
    if k < 1:
        raise ValueError(f"the baseline asks at least one worker per cell, got k={k}")
    schema = truth.schema
    knowers: dict[tuple[Value, ...], list[WorkerProfile]] = {}
    for profile in crowd:
        for row in profile.known:
            key = schema.key_of(row)
            assert key is not None  # truth rows are complete
            knowers.setdefault(key, []).append(profile)
    answers: Counter[str] = Counter()
    enumeration_busy: dict[str, float] = {}
    cell_busy: dict[str, float] = {}
    taken: set[tuple[Value, ...]] = set()
    results: list[Values] = []
    unanswered = 0

    shared: dict[tuple[str, tuple[Value, ...], str], Value] = {}

    def reply(profile: WorkerProfile, column: Column, right: Value, key: tuple[Value, ...]) -> Value:
        """A worker's answer to one cell question. Spammers and "upvote everything" workers answer
        at random; a ring agrees on one wrong answer; a sybil's ids give their person's one answer."""
        if profile.kind in ("spammer", "upvoter"):
            pool = column.domain if column.domain is not None else truth.column_values(column.name)
            return rng.choice(pool) if pool else mistake(column, right, truth, rng)
        if profile.group is None:
            return answer(column, right, profile.accuracy, truth, rng)
        memo = (profile.group, key, column.name)
        if memo not in shared:
            if profile.kind == "ring":
                shared[memo] = mistake(column, right, truth, rng)
            else:
                shared[memo] = answer(column, right, profile.accuracy, truth, rng)
        return shared[memo]

    def ask(profile: WorkerProfile, busy: dict[str, float]) -> None:
        answers[profile.worker] += 1
        busy[profile.worker] = busy.get(profile.worker, 0.0) + max(1.0, rng.expovariate(1.0 / profile.think))

    for wanted in template.rows:
        values = dict(wanted)
        key = schema.key_of(wanted)
        if key is None:
            named = _enumerate(wanted, crowd, taken, schema, rng)
            if named is None:
                unanswered += len(schema.columns) - len(values)
                continue
            profile, source = named
            ask(profile, enumeration_busy)
            source_key = schema.key_of(source)
            assert source_key is not None  # truth rows are complete
            # The named key is checked like any cell: k - 1 more workers who know that row answer
            # each named key cell, and the majority of the k answers stands.
            checkers = [other for other in knowers.get(source_key, ()) if other is not profile]
            rng.shuffle(checkers)
            for name in schema.key:
                if name not in values:
                    right = dict(source)[name]
                    named_replies = [reply(profile, schema.column(name), right, source_key)]
                    for checker in checkers[: k - 1]:
                        ask(checker, enumeration_busy)
                        named_replies.append(reply(checker, schema.column(name), right, source_key))
                    values[name] = _majority(named_replies)
            key = tuple(values[name] for name in schema.key)
        taken.add(key)
        truth_row = truth.row_for_key(key)
        asked = list(knowers.get(key, ()))
        rng.shuffle(asked)
        for column in schema.columns:
            if column.name in values:
                continue
            if truth_row is None or not asked:
                unanswered += 1
                continue
            right = dict(truth_row)[column.name]
            replies: list[Value] = []
            for profile in asked[:k]:
                ask(profile, cell_busy)
                replies.append(reply(profile, column, right, key))
            values[column.name] = _majority(replies)
        if len(values) == len(schema.columns):
            results.append(frozenset(values.items()))
    return BaselineResult(
        rows=tuple(results),
        answers=sum(answers.values()),
        answers_by_worker=dict(sorted(answers.items())),
        unanswered_cells=unanswered,
        sim_seconds=max(enumeration_busy.values(), default=0.0) + max(cell_busy.values(), default=0.0),
    )


def _enumerate(
    wanted: Values,
    crowd: tuple[WorkerProfile, ...],
    taken: set[tuple[Value, ...]],
    schema: Schema,
    rng: random.Random,
) -> tuple[WorkerProfile, Values] | None:
    """A worker who knows a row fitting ``wanted`` whose key is not taken, and that row."""
    order = list(crowd)
    rng.shuffle(order)
    for profile in order:
        fitting = [row for row in profile.known if wanted <= row and schema.key_of(row) not in taken]
        if fitting:
            return profile, rng.choice(fitting)
    return None


def _majority(replies: list[Value]) -> Value:
    """The most frequent reply; ties go to the reply given first."""
    counts: Counter[tuple[str, str]] = Counter((type(v).__name__, repr(v)) for v in replies)
    best = max(counts.values())
    for reply in replies:
        if counts[(type(reply).__name__, repr(reply))] == best:
            return reply
    raise ValueError("no replies to merge")
