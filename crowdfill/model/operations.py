"""The primitive operations of the candidate table (DESIGN §2), as frozen dataclasses."""

from __future__ import annotations

import math
from dataclasses import dataclass

from crowdfill.model.errors import MalformedMessage
from crowdfill.model.values import Value, Values

CENTRAL_CLIENT = "central"
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class Insert:
    """A new row with a template row's values; only the central client inserts."""

    row_id: str
    values: Values
    worker: str = CENTRAL_CLIENT


@dataclass(frozen=True)
class Fill:
    """Fill the empty cell ``column`` of ``row_id``, realised as a replace by ``new_row_id``.

    ``values`` are the new row's full values, so a replica that already lost ``row_id`` to a
    concurrent fill can still add the new row. ``upvote`` is whether the fill also upvotes the row it
    completes for the filler; the server decides it when it sequences the operation.
    """

    worker: str
    row_id: str
    new_row_id: str
    column: str
    value: Value
    values: Values
    upvote: bool = False


@dataclass(frozen=True)
class Upvote:
    worker: str
    row_id: str
    values: Values


@dataclass(frozen=True)
class Downvote:
    worker: str
    row_id: str
    values: Values


Operation = Insert | Fill | Upvote | Downvote
Vote = Upvote | Downvote


@dataclass(frozen=True)
class Reweigh:
    """The server sets ``worker``'s vote weight (``reputation`` scoring) to ``weight``.

    Only the server emits it, sequenced like any operation. ``version`` counts the server's
    reweighs of this worker: the highest version wins (ties: the larger weight), so a replica that
    integrated the same reweighs holds the same weights in whatever order they arrived. A worker no
    reweigh names weighs 1; weight 0 is quarantine (their votes stay recorded but count for nothing).
    """

    worker: str
    weight: float
    version: int

    def __post_init__(self) -> None:
        worker, weight, version = self.worker, self.weight, self.version
        if not isinstance(worker, str) or not worker or len(worker) > 200:
            raise MalformedMessage(f"a reweigh names a worker of 1 to 200 characters, got {worker!r}")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
            raise MalformedMessage(f"a reweigh's weight must be a finite number, got {weight!r}")
        if not 0.0 <= weight <= MAX_WEIGHT:
            raise MalformedMessage(f"a reweigh's weight must be between 0 and {MAX_WEIGHT:g}, got {weight!r}")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise MalformedMessage(f"a reweigh's version must be a whole number from 1, got {version!r}")


Sequenced = Operation | Reweigh
