"""Scoring functions f(u, d) from safe parametric families: nothing from a request is evaluated."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from crowdfill.model.errors import InvalidScoring

Family = Literal["threshold", "difference", "majority", "weighted"]
FAMILIES: tuple[str, ...] = get_args(Family)
Score = int | float


@dataclass(frozen=True)
class Scoring:
    """f(u, d) with f(0, 0) = 0, non-decreasing in u and non-increasing in d.

    Known gap (open decision): with the threshold written as u + d >= min_votes, that monotonicity
    holds only for min_votes <= 2 (and equal weights at 2); e.g. f(2, 0) = 0 < f(2, 1) = 1 at 3.

    - ``threshold`` (default, the paper's): u - d when u + d >= min_votes, else 0.
    - ``difference``: u - d.
    - ``majority``: +1 / -1 / 0 by the majority once u + d >= min_votes, else 0.
    - ``weighted``: up_weight * u - down_weight * d when u + d >= min_votes, else 0.
    """

    family: Family = "threshold"
    min_votes: int = 2
    up_weight: float = 1.0
    down_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise InvalidScoring(f"unknown scoring family {self.family!r}; families: {list(FAMILIES)}")
        if isinstance(self.min_votes, bool) or not isinstance(self.min_votes, int):
            raise InvalidScoring("min_votes must be a whole number")
        if not 0 <= self.min_votes <= 1000:
            raise InvalidScoring(f"min_votes must be between 0 and 1000, got {self.min_votes}")
        for name in ("up_weight", "down_weight"):
            weight = getattr(self, name)
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise InvalidScoring(f"{name} must be a number")
            if not math.isfinite(weight) or not 0 < weight <= 1000:
                raise InvalidScoring(f"{name} must be greater than 0 and at most 1000, got {weight}")

    def score(self, up: int, down: int) -> Score:
        if self.family == "difference":
            return up - down
        if up + down < self.min_votes:
            return 0
        if self.family == "threshold":
            return up - down
        if self.family == "majority":
            return (up > down) - (up < down)
        return self.up_weight * up - self.down_weight * down

    def describe(self) -> str:
        if self.family == "difference":
            return "u - d"
        if self.family == "threshold":
            return f"u - d if u + d >= {self.min_votes} else 0"
        if self.family == "majority":
            return f"sign(u - d) if u + d >= {self.min_votes} else 0"
        return f"{self.up_weight}*u - {self.down_weight}*d if u + d >= {self.min_votes} else 0"


DEFAULT_SCORING = Scoring()
