"""The simulated crowd: who knows which truth rows, how accurately, and how each worker behaves."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Literal

from crowdfill.model import Column, Value, Values
from crowdfill.simulation.truth import Truth

Kind = Literal["honest", "spammer", "upvoter", "ring", "sybil"]
ADVERSARIES: tuple[Kind, ...] = ("spammer", "upvoter", "ring", "sybil")


@dataclass(frozen=True)
class CrowdSettings:
    """How the crowd is drawn. Ranges are (low, high), drawn uniformly per worker.

    ``knowledge`` is the share of the truth's rows a worker knows. ``accuracy`` is the chance that
    any single judgement or value of a worker is right: a value they type, or whether they take a
    row they know to be right or wrong (a judgement, once made, is kept). ``mix`` weighs fill /
    upvote / downvote when a worker could do several; ``think`` is the mean number of simulated
    seconds between a worker's look at the table and their action.
    """

    workers: int = 20
    knowledge: tuple[float, float] = (0.4, 0.7)
    accuracy: tuple[float, float] = (0.9, 0.9)
    mix: tuple[float, float, float] = (0.5, 0.35, 0.15)
    think: float = 20.0
    # Adversaries, added beside the ``workers`` honest ones (docs/simulation.md, "Adversaries"):
    # ``spammers`` and ``upvoters`` are shares of the whole crowd; ``ring`` colluders; one person
    # behind ``sybils`` ids.
    spammers: float = 0.0
    upvoters: float = 0.0
    ring: int = 0
    sybils: int = 0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("a crowd needs at least one worker")
        for name in ("knowledge", "accuracy"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"{name} must be a range within 0..1, got {low}..{high}")
        if len(self.mix) != 3 or any(w < 0 for w in self.mix) or sum(self.mix) <= 0:
            raise ValueError(f"mix needs three non-negative weights (fill, upvote, downvote), got {self.mix}")
        if not self.think > 0:
            raise ValueError(f"think time must be positive, got {self.think}")
        if not (
            0.0 <= self.spammers < 1.0 and 0.0 <= self.upvoters < 1.0 and self.spammers + self.upvoters < 1.0
        ):
            raise ValueError(
                "spammers and upvoters are shares of the crowd below 1 together, "
                f"got {self.spammers} and {self.upvoters}"
            )
        if self.ring < 0 or self.sybils < 0 or self.ring == 1 or self.sybils == 1:
            raise ValueError(
                f"a ring and a sybil need at least two ids (or 0 for none), got {self.ring} and {self.sybils}"
            )

    def adversary_counts(self) -> dict[Kind, int]:
        """How many ids of each adversarial kind the crowd holds."""
        fixed = self.workers + self.ring + self.sybils
        total = fixed / (1.0 - self.spammers - self.upvoters)
        return {
            "spammer": round(self.spammers * total),
            "upvoter": round(self.upvoters * total),
            "ring": self.ring,
            "sybil": self.sybils,
        }


@dataclass(frozen=True)
class WorkerProfile:
    """One worker id. ``kind`` is what drives them; ``group`` names the ring or the sybil person an id
    belongs to (ids of one group share what they know and, for a sybil, every judgement)."""

    worker: str
    accuracy: float
    mix: tuple[float, float, float]
    think: float
    known: tuple[Values, ...]
    kind: Kind = "honest"
    group: str | None = None


def make_crowd(truth: Truth, settings: CrowdSettings, rng: random.Random) -> tuple[WorkerProfile, ...]:
    """The honest workers first (drawn exactly as without adversaries, so a seed keeps its honest
    crowd), then the adversaries, all named ``wNN`` alike: nothing in an id gives a kind away."""
    counts = settings.adversary_counts()
    total = settings.workers + sum(counts.values())
    width = len(str(total))
    crowd = []
    for number in range(1, settings.workers + 1):
        accuracy, known, mix, think = _draw(truth, settings, rng)
        crowd.append(WorkerProfile(f"w{number:0{width}d}", accuracy, mix, think, known))
    number = settings.workers
    sybil: tuple[float, tuple[Values, ...]] | None = None
    for kind in ADVERSARIES:
        for _ in range(counts[kind]):
            number += 1
            accuracy, known, mix, think = _draw(truth, settings, rng)
            group = None
            if kind == "ring":
                group = "ring"
            elif kind == "sybil":
                # One person: the same knowledge and accuracy behind every id.
                sybil = sybil or (accuracy, known)
                accuracy, known, group = sybil[0], sybil[1], "sybil"
            crowd.append(WorkerProfile(f"w{number:0{width}d}", accuracy, mix, think, known, kind, group))
    return tuple(crowd)


def _draw(
    truth: Truth, settings: CrowdSettings, rng: random.Random
) -> tuple[float, tuple[Values, ...], tuple[float, float, float], float]:
    accuracy = round(rng.uniform(*settings.accuracy), 3)
    share = rng.uniform(*settings.knowledge)
    count = max(1, round(share * len(truth)))
    known = tuple(truth.rows[i] for i in sorted(rng.sample(range(len(truth)), count)))
    # Each worker leans a little towards some behaviour and thinks at their own pace.
    mix = (
        settings.mix[0] * rng.uniform(0.5, 1.5),
        settings.mix[1] * rng.uniform(0.5, 1.5),
        settings.mix[2] * rng.uniform(0.5, 1.5),
    )
    think = settings.think * rng.uniform(0.5, 1.5)
    return accuracy, known, mix, think


def answer(column: Column, right: Value, accuracy: float, truth: Truth, rng: random.Random) -> Value:
    """What a worker of ``accuracy`` types for a cell whose right value is ``right``."""
    if rng.random() < accuracy:
        return right
    return mistake(column, right, truth, rng)


def mistake(column: Column, value: Value, truth: Truth, rng: random.Random) -> Value:
    """A wrong value for ``column``: another value of its domain, a value seen in another row (a mix-up),
    or a plausible mutation of the right one (a typo, an off-by-a-bit number, a flipped boolean)."""
    if column.domain is not None:
        others = [v for v in column.domain if v != value]
        return rng.choice(others) if others else value
    if column.type == "boolean":
        return not value
    seen = [v for v in truth.column_values(column.name) if v != value]
    if seen and rng.random() < 0.5:
        return rng.choice(seen)
    return _mutate(column, value, rng)


def _mutate(column: Column, value: Value, rng: random.Random) -> Value:
    if column.type == "integer" and isinstance(value, int):
        spread = max(1, abs(value) // 10)
        return value + rng.choice((-1, 1)) * rng.randint(1, spread)
    if column.type == "number" and isinstance(value, int | float):
        return round(float(value) * rng.choice((0.9, 1.1)) + rng.choice((-1.0, 1.0)), 3)
    if column.type == "date" and isinstance(value, str):
        moved = date.fromordinal(
            date.fromisoformat(value).toordinal() + rng.choice((-1, 1)) * rng.randint(1, 400)
        )
        return moved.isoformat()
    return _typo(str(value), rng)


def _typo(text: str, rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(10):
        position = rng.randrange(len(text))
        kind = rng.randrange(3)
        if kind == 0 and len(text) > 1:
            changed = text[:position] + text[position + 1 :]
        elif kind == 1 and position + 1 < len(text):
            changed = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
        else:
            changed = text[:position] + rng.choice(letters) + text[position + 1 :]
        if changed.strip() and changed != text:
            return changed.strip()
    return text + rng.choice(letters)
