"""Per-worker vote weights, set only by sequenced ``Reweigh`` operations (``reputation`` scoring).

The weight a replica holds for a worker is the one of the highest-versioned reweigh it integrated
(ties: the larger weight), so it depends on the set of reweighs, not their order. Sums use
``math.fsum``, exactly rounded, so replicas that hold the same weights compute the same scores to
the last bit whatever order they iterate voters in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from crowdfill.model.operations import Reweigh


class Weights:
    def __init__(self) -> None:
        self._current: dict[str, tuple[int, float]] = {}

    def weight(self, worker: str) -> float:
        current = self._current.get(worker)
        return 1.0 if current is None else current[1]

    def apply(self, op: Reweigh) -> bool:
        """Keep ``op`` if it wins over what this replica holds; True when the weight changed."""
        current = self._current.get(op.worker)
        candidate = (op.version, float(op.weight))
        if current is not None and current >= candidate:
            return False
        self._current[op.worker] = candidate
        before = 1.0 if current is None else current[1]
        return before != candidate[1]

    def total(self, workers: Iterable[str]) -> float:
        return math.fsum(self.weight(worker) for worker in workers)

    def reweighs(self) -> list[Reweigh]:
        """The winning reweigh of every worker that has one, by worker."""
        return [Reweigh(w, weight, version) for w, (version, weight) in sorted(self._current.items())]
