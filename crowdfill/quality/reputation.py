"""A worker's reliability as a Beta posterior over "this worker's vote is right".

Each vote record is judged against what is known:

- **gold** value sets carry a known verdict (true: the row is right; false: it is wrong). A vote
  judged by gold is certain evidence and weighs ``gold_weight``.
- the **outcome** of the table: the final table's rows are taken for true, and a complete value set
  whose key has a final row with other values is taken for false. Judging by the outcome is only as
  good as the table, so it weighs ``outcome_weight``.

An upvote on V agrees when V is true and disagrees when V is false. A downvote on p agrees when p
is false (gold), or when p has a complete key whose true row does not contain p; it disagrees when
p is part of a true value set. Votes nothing judges are not evidence.

The estimate is the posterior mean (prior + agreements) / (prior + prior + all evidence): it
depends only on the set of vote records, gold and the outcome, never on their order, and an
agreeing vote never lowers it, a disagreeing vote never raises it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from crowdfill.model import Schema, Values
from crowdfill.quality.consensus import consensus

# "outcome": votes judged by the final table (and gold); "consensus": by a one-coin Dawid-Skene
# estimate of every key's true row from the votes themselves (and gold), crowdfill.quality.consensus.
Estimator = Literal["outcome", "consensus"]
ESTIMATORS: tuple[str, ...] = get_args(Estimator)


@dataclass(frozen=True)
class ReputationSettings:
    """The prior Beta(prior_right, prior_wrong) (mean 0.8 by default: newcomers count), evidence
    weights, the quarantine ``floor`` (an estimate below it earns weight 0), the ``reference``
    estimate that weighs 1 and the largest weight. A newcomer weighs 1 when the prior's mean is the
    reference; a prior below it makes newcomers earn their full weight by agreeing first."""

    prior_right: float = 4.0
    prior_wrong: float = 1.0
    gold_weight: float = 2.0
    outcome_weight: float = 1.0
    floor: float = 0.6
    reference: float = 0.8
    max_weight: float = 1.0
    estimator: Estimator = "outcome"
    # The most a worker weighs until they are proven: ``proof`` of their votes agreed with gold
    # (None: no cap, every worker earns what their estimate earns from the first vote).
    unproven_weight: float | None = None
    proof: int = 1

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {self.estimator!r}; estimators: {list(ESTIMATORS)}")
        for name in ("prior_right", "prior_wrong", "gold_weight", "outcome_weight", "max_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.prior_right <= self.prior_wrong:
            raise ValueError("the prior must favour being right (prior_right > prior_wrong): newcomers count")
        if not 0.5 < self.reference < 1.0:
            raise ValueError(f"the reference estimate is a probability in (0.5, 1), got {self.reference!r}")
        if not 0.0 <= self.floor < 1.0:
            raise ValueError(f"the quarantine floor is a probability below 1, got {self.floor!r}")

    @property
    def prior_mean(self) -> float:
        return self.prior_right / (self.prior_right + self.prior_wrong)


DEFAULT_SETTINGS = ReputationSettings()


@dataclass(frozen=True)
class Outcome:
    """What the table has decided: its final rows' values, and gold value sets with their verdicts."""

    final: frozenset[Values] = frozenset()
    gold: Mapping[Values, bool] | None = None

    def verdict(self, schema: Schema, kind: str, values: Values) -> tuple[bool, bool] | None:
        """(agrees, by gold) for a vote of ``kind`` on ``values``, or None when nothing judges it."""
        return _Judge(schema, self).verdict(kind, values)


class _Judge:
    """An outcome indexed for judging many votes: final rows by key, true gold sets by key; the
    final rows can change (``change``) without indexing gold again."""

    def __init__(self, schema: Schema, outcome: Outcome) -> None:
        self.schema = schema
        self.gold = dict(outcome.gold or {})
        # Gold first: a vote gold can judge is judged by gold.
        self.gold_true = [values for values, right in self.gold.items() if right]
        self.gold_true_by_key: dict[object, list[Values]] = {}
        for row in self.gold_true:
            self.gold_true_by_key.setdefault(schema.key_of(row), []).append(row)
        self.final: set[Values] = set()
        # The final rows that have a complete key, by key.
        self.final_by_key: dict[object, set[Values]] = {}
        self.change(outcome.final, ())

    def change(self, added: Iterable[Values], removed: Iterable[Values]) -> None:
        """The final rows ``added`` became final, ``removed`` no longer are."""
        key_of = self.schema.key_of
        for row in removed:
            self.final.remove(row)
            key = key_of(row)
            if key is not None:
                rows = self.final_by_key[key]
                rows.remove(row)
                if not rows:
                    del self.final_by_key[key]
        for row in added:
            self.final.add(row)
            key = key_of(row)
            if key is not None:
                self.final_by_key.setdefault(key, set()).add(row)

    def verdict(self, kind: str, values: Values) -> tuple[bool, bool] | None:
        schema, gold = self.schema, self.gold
        key = schema.key_of(values)
        if kind == "up":
            if values in gold:
                return gold[values], True
            if values in self.final:
                return True, False
            if key in self.final_by_key and schema.is_complete(values):
                return False, False
            return None
        if gold.get(values) is False:
            return True, True
        # Only a true set with the same key can contain a value set that has a complete key.
        gold_true: Iterable[Values]
        final: Iterable[Values]
        if key is None:
            gold_true, final = self.gold_true, self.final
        else:
            gold_true, final = self.gold_true_by_key.get(key, ()), self.final_by_key.get(key, ())
        for row in gold_true:
            if values <= row:
                return False, True
        for row in final:
            if values <= row:
                return False, gold.get(row) is True
        if key in self.final_by_key:
            return True, False
        return None


@dataclass(frozen=True)
class Estimate:
    """A worker's posterior: ``estimate`` (mean), ``right`` / ``wrong`` evidence weight beyond the
    prior, ``evidence`` (how many votes were judged, ``gold_votes`` of them by gold)."""

    worker: str
    estimate: float
    right: float
    wrong: float
    evidence: int
    gold_votes: int
    gold_right: int = 0


def estimate_workers(
    schema: Schema,
    votes: Iterable[tuple[str, str, Values]],
    outcome: Outcome,
    settings: ReputationSettings = DEFAULT_SETTINGS,
) -> dict[str, Estimate]:
    """Every voter's estimate from their vote records ``(worker, "up" | "down", values)``."""
    if settings.estimator == "consensus":
        return _by_consensus(schema, votes, outcome, settings)
    # Counts per worker: [gold right, gold wrong, outcome right, outcome wrong]. Whole numbers, so
    # the result cannot depend on the order the set of records is read in.
    counts: dict[str, list[int]] = {}
    judge = _Judge(schema, outcome)
    for worker, kind, values in set(votes):
        tally = counts.setdefault(worker, [0, 0, 0, 0])
        judged = judge.verdict(kind, values)
        if judged is None:
            continue
        agrees, by_gold = judged
        tally[(0 if by_gold else 2) + (0 if agrees else 1)] += 1
    return {worker: _from_counts(worker, counts[worker], settings) for worker in sorted(counts)}


def _from_counts(worker: str, counts: list[int], settings: ReputationSettings) -> Estimate:
    gold_right, gold_wrong, outcome_right, outcome_wrong = counts
    right = gold_right * settings.gold_weight + outcome_right * settings.outcome_weight
    wrong = gold_wrong * settings.gold_weight + outcome_wrong * settings.outcome_weight
    a = settings.prior_right + right
    b = settings.prior_wrong + wrong
    return Estimate(worker, a / (a + b), right, wrong, sum(counts), gold_right + gold_wrong, gold_right)


Record = tuple[str, str, Values]


class IncrementalEstimates:
    """``estimate_workers`` (the ``outcome`` estimator) kept up to date from what changed.

    Each call passes the whole state (the vote record set, the final rows, gold) and gets exactly
    what ``estimate_workers`` returns for it; only the vote records that are new, and those whose
    verdict the change of final rows can alter, are judged again. A record's verdict depends on
    gold and on the final rows with its key (a record without a complete key: on whether a final
    row contains it), so those are the records judged again. Different gold judges everything
    afresh."""

    def __init__(self, schema: Schema, settings: ReputationSettings = DEFAULT_SETTINGS) -> None:
        if settings.estimator != "outcome":
            raise ValueError(f"only the outcome estimator is incremental, not {settings.estimator!r}")
        self.schema = schema
        self.settings = settings
        self._reset(None)

    def _reset(self, gold: Mapping[Values, bool] | None) -> None:
        self._gold = dict(gold or {})
        self._final: frozenset[Values] = frozenset()
        self._records: frozenset[Record] = frozenset()
        # Per record: its key and the counter it adds to (None: nothing judges it).
        self._judged: dict[Record, tuple[object, int | None]] = {}
        self._by_key: dict[object, set[Record]] = {}
        self._keyless: set[Record] = set()
        self._counts: dict[str, list[int]] = {}
        self._records_of: dict[str, int] = {}
        self._estimates: dict[str, Estimate] = {}
        self._stale: set[str] = set()
        self._judge_of = _Judge(self.schema, Outcome(frozenset(), self._gold))

    def estimates(
        self, votes: frozenset[Record], final: frozenset[Values], gold: Mapping[Values, bool] | None
    ) -> dict[str, Estimate]:
        if dict(gold or {}) != self._gold:
            self._reset(gold)
        try:
            return self._update(votes, final)
        except BaseException:
            self._reset(gold)  # a state half updated must not be built on: start afresh next time
            raise

    def _update(self, votes: frozenset[Record], final: frozenset[Values]) -> dict[str, Estimate]:
        judge = self._judge_of
        changed = final ^ self._final
        judge.change(final - self._final, self._final - final)
        again: set[Record] = set()
        if changed:
            key_of = self.schema.key_of
            for key in {key_of(row) for row in changed}:
                again |= self._by_key.get(key, set())
            again |= {r for r in self._keyless if any(r[2] <= row for row in changed)}
        gone = self._records - votes
        for record in gone | again:
            self._forget(record)
        for record in (votes - self._records) | (again - gone):
            self._judge(record, judge)
        self._final, self._records = final, votes
        settings = self.settings
        for worker in self._stale:
            if self._records_of.get(worker):
                self._estimates[worker] = _from_counts(worker, self._counts[worker], settings)
            else:
                self._estimates.pop(worker, None)
        self._stale.clear()
        return {worker: self._estimates[worker] for worker in sorted(self._estimates)}

    def _forget(self, record: Record) -> None:
        key, slot = self._judged.pop(record)
        (self._keyless if key is None else self._by_key[key]).discard(record)
        worker = record[0]
        if slot is not None:
            self._counts[worker][slot] -= 1
        self._records_of[worker] -= 1
        self._stale.add(worker)

    def _judge(self, record: Record, judge: _Judge) -> None:
        worker, kind, values = record
        key = self.schema.key_of(values)
        judged = judge.verdict(kind, values)
        slot = None if judged is None else (0 if judged[1] else 2) + (0 if judged[0] else 1)
        self._judged[record] = (key, slot)
        if key is None:
            self._keyless.add(record)
        else:
            self._by_key.setdefault(key, set()).add(record)
        counts = self._counts.setdefault(worker, [0, 0, 0, 0])
        if slot is not None:
            counts[slot] += 1
        self._records_of[worker] = self._records_of.get(worker, 0) + 1
        self._stale.add(worker)


def _by_consensus(
    schema: Schema,
    votes: Iterable[tuple[str, str, Values]],
    outcome: Outcome,
    settings: ReputationSettings,
) -> dict[str, Estimate]:
    found = consensus(
        schema,
        votes,
        outcome.gold,
        settings.prior_right,
        settings.prior_wrong,
        settings.gold_weight,
        settings.outcome_weight,
    )
    estimates = {}
    for worker in sorted(found.right):
        right, wrong = found.right[worker], found.wrong[worker]
        a = settings.prior_right + right
        b = settings.prior_wrong + wrong
        estimates[worker] = Estimate(
            worker, a / (a + b), right, wrong, found.evidence[worker], found.gold_votes[worker]
        )
    return estimates


def earned_weight(estimate: Estimate, settings: ReputationSettings = DEFAULT_SETTINGS) -> float:
    """The weight ``estimate`` earns (``weight_of``), at most ``unproven_weight`` until gold proved
    the worker right ``proof`` times."""
    weight = weight_of(estimate.estimate, settings)
    cap = settings.unproven_weight
    if cap is not None and estimate.gold_right < settings.proof:
        return min(weight, cap)
    return weight


def weight_of(estimate: float, settings: ReputationSettings = DEFAULT_SETTINGS) -> float:
    """The scoring weight an estimate earns: its log-odds relative to the reference's (which weighs
    1), capped at ``max_weight``; 0 below the quarantine floor or at even odds and worse."""
    if estimate < settings.floor or estimate <= 0.5:
        return 0.0
    if estimate >= 1.0:
        return settings.max_weight
    reference = settings.reference
    relative = math.log(estimate / (1.0 - estimate)) / math.log(reference / (1.0 - reference))
    return min(settings.max_weight, relative)
