"""Compensation settings: budget, growth of later rows' weight, column weights, the voters' share.

Every number is validated when the settings are made, and turned into an exact fraction from its
decimal spelling (``0.2`` is exactly one fifth), so the settlement never depends on binary
floating-point rounding of the requester's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from crowdfill.compensation.errors import InvalidCompensation
from crowdfill.model.schema import Schema

MAX_BUDGET_CENTS = 10**12
MAX_GROWTH = 100
MAX_COLUMN_WEIGHT = 10**6
Number = int | float


@dataclass(frozen=True)
class CompensationSettings:
    """How a table's budget is split (see docs/compensation.md).

    - ``budget_cents``: the total B, a whole number of cents, 0 <= B <= 10**12.
    - ``growth``: g in [1, 100]; the final row found k-th from last weighs g**-k of the last one.
    - ``column_weights``: column -> weight >= 0 for the fill part of a row; missing columns weigh 1.
    - ``vote_share``: s in [0, 1], the part of each row's share that goes to agreeing voters.
    - ``fooled_bonus_share``: f in [0, 1), the part of the budget set aside as a bonus for rows that
      fooled the model in the loop (``fooled_bonus``); 0 (the default) sets nothing aside.
    """

    budget_cents: int
    growth: Number = 1.1
    column_weights: Mapping[str, Number] | None = field(default=None, hash=False)
    vote_share: Number = 0.2
    fooled_bonus_share: Number = 0

    def __post_init__(self) -> None:
        budget = self.budget_cents
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise InvalidCompensation(f"budget_cents must be a whole number of cents, got {budget!r}")
        if not 0 <= budget <= MAX_BUDGET_CENTS:
            raise InvalidCompensation(f"budget_cents must be between 0 and {MAX_BUDGET_CENTS}, got {budget}")
        growth = _number("growth", self.growth)
        if not 1 <= growth <= MAX_GROWTH:
            raise InvalidCompensation(f"growth must be between 1 and {MAX_GROWTH}, got {growth}")
        share = _number("vote_share", self.vote_share)
        if not 0 <= share <= 1:
            raise InvalidCompensation(f"vote_share must be between 0 and 1, got {share}")
        bonus = _number("fooled_bonus_share", self.fooled_bonus_share)
        if not 0 <= bonus < 1:
            raise InvalidCompensation(f"fooled_bonus_share must be at least 0 and below 1, got {bonus}")
        if self.column_weights is not None:
            object.__setattr__(self, "column_weights", _weights(self.column_weights))

    # ------------------------------------------------------------------ exact views
    @property
    def growth_fraction(self) -> Fraction:
        return exact(self.growth)

    @property
    def vote_fraction(self) -> Fraction:
        return exact(self.vote_share)

    @property
    def fooled_bonus_fraction(self) -> Fraction:
        return exact(self.fooled_bonus_share)

    def weights_for(self, schema: Schema) -> dict[str, Fraction]:
        """Each schema column's weight; refuses weights for columns the schema does not have."""
        given = dict(self.column_weights or {})
        unknown = sorted(set(given) - set(schema.names))
        if unknown:
            raise InvalidCompensation(f"column_weights name columns the schema does not have: {unknown}")
        weights = {name: exact(given.get(name, 1)) for name in schema.names}
        if sum(weights.values()) <= 0:
            raise InvalidCompensation("at least one column must have a positive weight")
        return weights

    def column_parts(self, schema: Schema) -> dict[str, Fraction]:
        """The part of a row's share that each column's value earns: (1 - s) * w_c / sum(w)."""
        weights = self.weights_for(schema)
        total = sum(weights.values())
        fill = 1 - self.vote_fraction
        return {name: fill * weight / total for name, weight in weights.items()}

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "budget_cents": self.budget_cents,
            "growth": self.growth,
            "column_weights": dict(self.column_weights) if self.column_weights is not None else None,
            "vote_share": self.vote_share,
        }
        # Only when set, so settlements stored before the bonus existed keep their exact shape.
        if self.fooled_bonus_share:
            data["fooled_bonus_share"] = self.fooled_bonus_share
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompensationSettings:
        """Settings from a JSON object; unknown or missing fields are refused with a clear error."""
        if not isinstance(data, Mapping):
            raise InvalidCompensation("compensation settings must be an object")
        allowed = {"budget_cents", "growth", "column_weights", "vote_share", "fooled_bonus_share"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InvalidCompensation(f"unknown compensation settings {unknown}; allowed: {sorted(allowed)}")
        if "budget_cents" not in data:
            raise InvalidCompensation("compensation settings need budget_cents")
        weights = data.get("column_weights")
        if weights is not None and not isinstance(weights, Mapping):
            raise InvalidCompensation("column_weights must be an object of column -> weight")
        return cls(
            budget_cents=data["budget_cents"],
            growth=data.get("growth", 1.1),
            column_weights=weights,
            vote_share=data.get("vote_share", 0.2),
            fooled_bonus_share=data.get("fooled_bonus_share", 0),
        )


def exact(number: Number) -> Fraction:
    """The exact fraction a number is written as in decimal (``1.1`` -> 11/10)."""
    return Fraction(number) if isinstance(number, int) else Fraction(repr(number))


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCompensation(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidCompensation(f"{name} must be finite, got {value!r}")
    return float(value)


def _weights(raw: object) -> Mapping[str, Number]:
    if not isinstance(raw, Mapping):
        raise InvalidCompensation("column_weights must be a mapping of column name -> weight")
    checked: dict[str, Number] = {}
    for name, weight in sorted(raw.items(), key=lambda item: str(item[0])):
        if not isinstance(name, str) or not name:
            raise InvalidCompensation(f"column_weights keys must be column names, got {name!r}")
        number = _number(f"the weight of column {name!r}", weight)
        if not 0 <= number <= MAX_COLUMN_WEIGHT:
            raise InvalidCompensation(
                f"the weight of column {name!r} must be between 0 and {MAX_COLUMN_WEIGHT}, got {weight!r}"
            )
        checked[name] = weight
    return MappingProxyType(checked)
