"""The primitive operations of the candidate table (DESIGN §2), as frozen dataclasses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from crowdfill.model.errors import MalformedMessage
from crowdfill.model.values import Value, Values

CENTRAL_CLIENT = "central"
# The worker name of a model in the loop (crowdfill.assist): its annotations are sequenced like any op.
MODEL_WORKER = "model"
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class Insert:
    """A new row with a template row's values; only the central client inserts.

    ``gold``: the row is one of the requester's gold rows (complete, with a known verdict): it is
    votable like any row but belongs to no key group, so it never enters the final table, never
    serves a template row and never changes another row's status. Only the server's log carries
    the flag; what workers receive is a plain insert (crowdfill.server.gold).
    """

    row_id: str
    values: Values
    worker: str = CENTRAL_CLIENT
    gold: bool = False


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


@dataclass(frozen=True)
class Retract:
    """Take back ``worker``'s own vote record on ``values`` (the values of ``row_id``).

    ``values`` and ``kind`` (the sign of the record) are filled in by the server's ``validate``; a
    client sends only the row. The retract leaves a tombstone keyed (worker, kind, values), so it
    wins over its vote in any arrival order, and the same vote cannot be cast again.
    """

    worker: str
    row_id: str
    values: Values = frozenset()
    kind: Literal["up", "down"] | None = None


@dataclass(frozen=True)
class Annotate:
    """A model's ``prediction`` of ``column`` for the row holding ``values``, or a ``suggestion``
    for one of its empty cells, with a confidence in [0, 1]. It changes no count and no score.

    Annotations are keyed by (values, kind, column): a replica keeps, for each key, the one with
    the highest (confidence, value, worker), so any arrival order converges to the same state.
    """

    worker: str
    row_id: str
    kind: Literal["prediction", "suggestion"]
    column: str
    value: Value
    confidence: float
    values: Values = frozenset()


def annotation_rank(op: Annotate) -> tuple[float, str, str, str]:
    """Which of two annotations of one key a replica keeps (the higher); never compares mixed types."""
    return (op.confidence, type(op.value).__name__, repr(op.value), op.worker)


Operation = Insert | Fill | Upvote | Downvote | Retract | Annotate
Vote = Upvote | Downvote


@dataclass(frozen=True)
class Reweigh:
    """The server sets ``worker``'s vote weight (``reputation`` scoring) to ``weight``.

    Only the server emits it, sequenced like any operation. ``version`` counts the server's
    reweighs of this worker: the highest version wins (ties: the larger weight, then excluded), so
    a replica that integrated the same reweighs holds the same weights in whatever order they
    arrived. A worker no reweigh names weighs 1; weight 0 is quarantine (their votes stay recorded
    but count for nothing, in every scoring family). ``excluded``: the requester excluded the worker
    by hand (weight 0; compensation pays them nothing); a later reweigh with a higher version
    undoes it.
    """

    worker: str
    weight: float
    version: int
    excluded: bool = False

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
        if not isinstance(self.excluded, bool):
            raise MalformedMessage(f"a reweigh's excluded flag must be true or false, got {self.excluded!r}")
        if self.excluded and weight != 0:
            raise MalformedMessage(f"an excluded worker weighs 0, got weight {weight!r}")


Sequenced = Operation | Reweigh
