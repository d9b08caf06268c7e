"""The port: what a model attached to a table can do for one row.

Both calls take the row's values (column -> value, only the filled cells) and are async so a
model server is called without blocking; the server's runner bounds them with a timeout and
keeps them off the table owner's loop. A model that cannot help returns nothing (an empty list,
None) rather than guessing; one that fails raises an ``AssistantError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from crowdfill.model.values import Value


@dataclass(frozen=True)
class Suggestion:
    """A value the model proposes for an empty cell, with its confidence in [0, 1]."""

    column: str
    value: Value
    confidence: float


@dataclass(frozen=True)
class Prediction:
    """The model's verdict on ``column`` given the row's other values (what a DADC row tries to fool)."""

    column: str
    value: Value
    confidence: float


@runtime_checkable
class Assistant(Protocol):
    """A model attached to a table."""

    @property
    def name(self) -> str:
        """A short name for the monitor and the exports (e.g. ``vader``)."""
        ...

    async def suggest(self, values: Mapping[str, Value], columns: Sequence[str]) -> list[Suggestion]:
        """Values for some of the empty ``columns`` of a row holding ``values``."""
        ...

    async def predict(self, values: Mapping[str, Value], column: str) -> Prediction | None:
        """The model's value for ``column`` from the row's other values (``column`` excluded)."""
        ...


def check_confidence(confidence: object, where: str) -> float:
    """A confidence as a float in [0, 1], or ValueError naming ``where``."""
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError(f"{where}: confidence must be a number in [0, 1], got {confidence!r}")
    number = float(confidence)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{where}: confidence must be in [0, 1], got {number}")
    return number
