"""Per-worker vote weights, set only by sequenced ``Reweigh`` operations (``reputation`` scoring).

The weight a replica holds for a worker is the one of the highest-versioned reweigh it integrated
(ties: the larger weight, then the excluding one), so it depends on the set of reweighs, not their
order. Sums use ``math.fsum``, exactly rounded, so replicas that hold the same weights compute the
same scores to the last bit whatever order they iterate voters in. Workers at weight 0
(quarantined or excluded) are also kept apart: no scoring family counts their votes.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable

from crowdfill.model.operations import Reweigh


class Weights:
    def __init__(self) -> None:
        self._current: dict[str, tuple[int, float, bool]] = {}
        self._silent: frozenset[str] = frozenset()

    def weight(self, worker: str) -> float:
        current = self._current.get(worker)
        return 1.0 if current is None else current[1]

    def excluded(self, worker: str) -> bool:
        current = self._current.get(worker)
        return current is not None and current[2]

    @property
    def silent(self) -> frozenset[str]:
        """The workers at weight 0, whose votes count in no family."""
        return self._silent

    def apply(self, op: Reweigh) -> bool:
        """Keep ``op`` if it wins over what this replica holds; True when the weight changed."""
        current = self._current.get(op.worker)
        candidate = (op.version, float(op.weight), op.excluded)
        if current is not None and current >= candidate:
            return False
        self._current[op.worker] = candidate
        # Rebuilt (rarely: reweighs are few), so readers may hold the frozenset they were given.
        self._silent = self._silent | {op.worker} if candidate[1] == 0.0 else self._silent - {op.worker}
        before = 1.0 if current is None else current[1]
        return before != candidate[1] or (current is not None and current[2] != candidate[2])

    def total(self, workers: Iterable[str]) -> float:
        return math.fsum(self.weight(worker) for worker in workers)

    def total_of(self, workers: Collection[str]) -> float:
        """``total`` of distinct workers, quicker: with no reweigh every weight is 1 (an exact count)."""
        if not self._current:
            return float(len(workers))
        return math.fsum(self.weight(worker) for worker in workers) if workers else 0.0

    def reweighs(self) -> list[Reweigh]:
        """The winning reweigh of every worker that has one, by worker."""
        return [
            Reweigh(w, weight, version, excluded)
            for w, (version, weight, excluded) in sorted(self._current.items())
        ]
