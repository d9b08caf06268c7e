"""Row weights: the final row found k places before the last weighs g**-k, in exact fixed point.

``Decay(g)[d]`` is g**-d scaled by 2**96 and computed with integer arithmetic only
(w(0) = 2**96, w(d) = floor(w(d - 1) / g) with g an exact fraction), so every machine gets the same
integers. Distance is counted from the last final row so the weights never overflow; a row so early
that its weight rounds to zero would earn less than 2**-96 of the budget anyway.
"""

from __future__ import annotations

from fractions import Fraction

ONE = 1 << 96


class Decay:
    """The fixed-point weights g**-d for d = 0, 1, ..., grown on demand and shared."""

    def __init__(self, growth: Fraction) -> None:
        if growth < 1:
            raise ValueError("growth must be at least 1")
        self._num = growth.numerator
        self._den = growth.denominator
        self._table = [ONE]

    def __getitem__(self, distance: int) -> int:
        table = self._table
        while len(table) <= distance:
            last = table[-1]
            if last == 0:
                return 0
            table.append(last * self._den // self._num)
        return table[distance]
