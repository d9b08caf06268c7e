"""Scoring functions f(u, d) from safe parametric families: nothing from a request is evaluated."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from crowdfill.model.errors import InvalidScoring

Family = Literal["threshold", "difference", "majority", "weighted", "reputation"]
FAMILIES: tuple[str, ...] = get_args(Family)
Score = int | float

# Each family's vote gate when a definition (or ``crowdfill simulate``) names the family but no
# ``min_votes``: one table for the server, the simulator and the SDK (docs/quality.md, "Defaults").
DEFAULT_MIN_VOTES: dict[str, int] = {
    "threshold": 2,
    "difference": 2,
    "majority": 2,
    "weighted": 2,
    "reputation": 3,
}


@dataclass(frozen=True)
class Scoring:
    """f(u, d) with f(0, 0) = 0, non-decreasing in u and non-increasing in d, for every parameter.

    The vote threshold k = ``min_votes`` gates each sign separately: a score may be positive only
    once u >= k and negative only once d >= k. For k <= 2 this is exactly the paper's
    "u - d when u + d >= 2" (they differ only at u = d = 1, where both are 0); gating on u + d
    instead would let a downvote raise a score for k >= 3 (f(2, 0) = 0 < f(2, 1) = 1).

    - ``threshold`` (default, the paper's): u - d, gated.
    - ``difference``: u - d.
    - ``majority``: +1 / -1 / 0 by the majority, gated.
    - ``weighted``: up_weight * u - down_weight * d, gated.
    - ``reputation``: u - d, gated, where u and d are sums of the voters' weights (each worker
      weighs 1 until the server reweighs them from their estimated reliability; docs/quality.md).
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

    def score(self, up: Score, down: Score) -> Score:
        if self.family == "difference":
            return up - down
        if self.family in ("threshold", "reputation"):
            raw: Score = up - down
        elif self.family == "majority":
            raw = (up > down) - (up < down)
        else:
            raw = self.up_weight * up - self.down_weight * down
        if raw > 0 and up < self.min_votes:
            return 0
        if raw < 0 and down < self.min_votes:
            return 0
        return raw

    def describe(self) -> str:
        formula = {
            "difference": "u - d",
            "threshold": "u - d",
            "majority": "sign(u - d)",
            "weighted": f"{self.up_weight:g}*u - {self.down_weight:g}*d",
            "reputation": "u - d (votes weighted by reputation)",
        }[self.family]
        if self.family == "difference" or self.min_votes <= 1:
            # With k <= 1 the gate never bites: a positive score already needs an upvote.
            return formula
        if self.family in ("threshold", "majority") and self.min_votes == 2:
            # Equal to the gate below for equal weights; the paper's wording.
            return f"{formula} if u + d >= 2 else 0"
        k = self.min_votes
        return f"{formula}, positive only once u >= {k} and negative only once d >= {k}, else 0"


DEFAULT_SCORING = Scoring()
