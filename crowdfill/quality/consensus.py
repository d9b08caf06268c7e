"""A one-coin Dawid-Skene estimate: every worker's accuracy and every key's true row, from the votes.

Judging votes by the final table is circular: the final table is what the votes (the adversaries'
among them) made. This estimator judges them by the crowd's *consensus* instead, weighting each
voter by how often they agree with it, by expectation-maximisation:

- For every key that votes name, the hypotheses are the complete value sets with that key that
  votes name (or gold gives), and "another row" (the true row is none of them). Truth keys are
  unique, so exactly one hypothesis holds. Gold fixes a key's hypothesis (a true gold row) or rules
  one out (a false one).
- A worker of accuracy ``a`` casts each vote rightly with probability ``a`` ("one coin"): an upvote
  of V is right when V is the true row; a downvote of p is right when the true row does not contain
  p. Under "another row" an upvote of a complete set is wrong, a downvote of one right, and a vote
  on part of a row a coin toss.
- E-step: each key's posterior over its hypotheses given every voter's accuracy. M-step: each
  worker's accuracy is the Beta posterior mean of their votes' expected agreement, a vote on a key
  gold settles weighing ``gold_weight`` and any other ``outcome_weight``.

Deterministic and order-free: records are deduplicated and sorted, a fixed number of rounds runs,
sums are ``math.fsum``. Votes on value sets without a complete key are no evidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crowdfill.model import Schema, Value, Values
from crowdfill.model.values import sort_key

ROUNDS = 5
# Accuracies are kept inside (LOW, HIGH) so one vote never makes a hypothesis impossible.
LOW, HIGH = 0.02, 0.98
OTHER = -1  # the hypothesis index of "the true row is none of the named ones"


@dataclass(frozen=True)
class _Vote:
    worker: str
    # agreement under each named hypothesis (1.0 agrees, 0.0 disagrees), then under OTHER
    # (0.5 for a vote on part of a row: no opinion).
    agrees: tuple[float, ...]
    other: float


@dataclass(frozen=True)
class _Key:
    hypotheses: tuple[Values, ...]
    allowed: tuple[bool, ...]  # gold may rule hypotheses out (the last entry is OTHER)
    votes: tuple[_Vote, ...]
    settled: bool  # gold says which row is true: this key's votes are judged by gold


@dataclass(frozen=True)
class Consensus:
    """Per worker: expected right and wrong evidence weight, votes judged, votes judged by gold."""

    right: Mapping[str, float]
    wrong: Mapping[str, float]
    evidence: Mapping[str, int]
    gold_votes: Mapping[str, int]


def consensus(
    schema: Schema,
    votes: Iterable[tuple[str, str, Values]],
    gold: Mapping[Values, bool] | None,
    prior_right: float,
    prior_wrong: float,
    gold_weight: float,
    outcome_weight: float,
    rounds: int = ROUNDS,
) -> Consensus:
    records = sorted(set(votes), key=lambda rec: (rec[0], rec[1], sort_key(rec[2])))
    keys = _keys(schema, records, dict(gold or {}))
    workers = sorted({rec[0] for rec in records})
    accuracy = {worker: prior_right / (prior_right + prior_wrong) for worker in workers}
    expected: dict[str, list[tuple[float, float]]] = {}
    for _ in range(max(1, rounds)):
        expected = {worker: [] for worker in workers}
        for key in keys:
            posterior = _posterior(key, accuracy)
            weight = gold_weight if key.settled else outcome_weight
            for vote in key.votes:
                agree = math.fsum(p * a for p, a in zip(posterior, (*vote.agrees, vote.other), strict=True))
                expected[vote.worker].append((agree, weight))
        for worker in workers:
            mine = expected[worker]
            right = math.fsum(agree * weight for agree, weight in mine)
            total = math.fsum(weight for _, weight in mine)
            accuracy[worker] = (prior_right + right) / (prior_right + prior_wrong + total)
    right_of = {w: math.fsum(a * wt for a, wt in expected[w]) for w in workers}
    wrong_of = {w: math.fsum((1.0 - a) * wt for a, wt in expected[w]) for w in workers}
    evidence = {w: len(expected[w]) for w in workers}
    gold_votes = {w: 0 for w in workers}
    for key in keys:
        if key.settled:
            for vote in key.votes:
                gold_votes[vote.worker] += 1
    return Consensus(right_of, wrong_of, evidence, gold_votes)


def _keys(schema: Schema, records: list[tuple[str, str, Values]], gold: dict[Values, bool]) -> list[_Key]:
    by_key: dict[tuple[Value, ...], list[tuple[str, str, Values]]] = {}
    for record in records:
        key = schema.key_of(record[2])
        if key is not None:
            by_key.setdefault(key, []).append(record)
    gold_by_key: dict[tuple[Value, ...], list[tuple[Values, bool]]] = {}
    for values, verdict in gold.items():
        key = schema.key_of(values)
        if key is not None and schema.is_complete(values):
            gold_by_key.setdefault(key, []).append((values, verdict))
    keys = []
    for key in sorted(by_key, key=repr):
        named = {values for _, _, values in by_key[key] if schema.is_complete(values)}
        named |= {values for values, _ in gold_by_key.get(key, [])}
        hypotheses = tuple(sorted(named, key=sort_key))
        true_gold = {values for values, verdict in gold_by_key.get(key, []) if verdict}
        false_gold = {values for values, verdict in gold_by_key.get(key, []) if not verdict}
        if true_gold:
            allowed = (*(h in true_gold for h in hypotheses), False)
        else:
            allowed = (*(h not in false_gold for h in hypotheses), True)
        keyed_votes = tuple(
            _Vote(
                worker,
                tuple(_agrees(kind, values, h) for h in hypotheses),
                _agrees_other(schema, kind, values),
            )
            for worker, kind, values in by_key[key]
        )
        keys.append(_Key(hypotheses, allowed, keyed_votes, bool(true_gold)))
    return keys


def _agrees(kind: str, values: Values, truth: Values) -> float:
    """An upvote says ``values`` is (part of) the true row; a downvote says it is not."""
    inside = values <= truth
    return 1.0 if inside == (kind == "up") else 0.0


def _agrees_other(schema: Schema, kind: str, values: Values) -> float:
    if not schema.is_complete(values):
        return 0.5
    return 0.0 if kind == "up" else 1.0


def _posterior(key: _Key, accuracy: Mapping[str, float]) -> list[float]:
    count = len(key.hypotheses) + 1
    logs: list[list[float]] = [[] for _ in range(count)]
    for vote in key.votes:
        a = min(HIGH, max(LOW, accuracy[vote.worker]))
        right, wrong = math.log(a), math.log(1.0 - a)
        for index, agree in enumerate((*vote.agrees, vote.other)):
            logs[index].append(agree * right + (1.0 - agree) * wrong)
    total = [
        math.fsum(terms) if allowed else -math.inf for terms, allowed in zip(logs, key.allowed, strict=True)
    ]
    top = max(total)
    if top == -math.inf:
        return [0.0] * count
    exps = [math.exp(t - top) for t in total]
    norm = math.fsum(exps)
    return [e / norm for e in exps]
