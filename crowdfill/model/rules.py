"""Per-column rules beyond type and domain: bounds, a length cap and a pattern.

A rule is checked on the canonical value (after the column's type has normalised it), and a
refusal's code names the rule it broke. Which rules fit which column type is the schema's
business (``crowdfill.model.schema``); this module only holds and applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crowdfill.model.errors import (
    InvalidSchema,
    PatternMismatch,
    ValueAboveMax,
    ValueBelowMin,
    ValueTooLong,
)
from crowdfill.model.pattern import Pattern, compile_pattern

# Bounds are numbers (integer and number columns) or ISO dates, which order as text.
Bound = int | float | str


@dataclass(frozen=True)
class ColumnRules:
    minimum: Bound | None = None
    maximum: Bound | None = None
    max_length: int | None = None
    pattern: str | None = None
    compiled: Pattern | None = field(init=False, default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_length is not None and (
            isinstance(self.max_length, bool) or not isinstance(self.max_length, int) or self.max_length < 1
        ):
            raise InvalidSchema(f"max_length must be a whole number of at least 1, got {self.max_length!r}")
        if self.pattern is not None:
            object.__setattr__(self, "compiled", compile_pattern(self.pattern))

    @property
    def empty(self) -> bool:
        return (
            self.minimum is None and self.maximum is None and self.max_length is None and self.pattern is None
        )

    def check(self, column: str, value: Bound) -> None:
        """Raise the error naming the first rule ``value`` breaks; bounds first, then length, then pattern."""
        if self.minimum is not None and _less(value, self.minimum):
            raise ValueBelowMin(f"{value!r} is below the minimum {self.minimum!r} of column {column!r}")
        if self.maximum is not None and _less(self.maximum, value):
            raise ValueAboveMax(f"{value!r} is above the maximum {self.maximum!r} of column {column!r}")
        if not isinstance(value, str):
            return
        # len() counts code points, as the worker page does with [...text].length.
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueTooLong(
                f"column {column!r} takes at most {self.max_length} characters, got {len(value)}"
            )
        if self.compiled is not None and not self.compiled.matches(value):
            raise PatternMismatch(
                f"{_short(value)} does not match the pattern {self.pattern!r} of column {column!r}"
            )


def _less(left: Bound, right: Bound) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    if isinstance(left, str) or isinstance(right, str):
        # The schema normalises bounds with the column's own type, so this is a programming error.
        raise TypeError(f"cannot compare {left!r} with {right!r}")
    return left < right


def _short(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
