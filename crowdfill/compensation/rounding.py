"""Largest-remainder rounding of exact shares to whole cents."""

from __future__ import annotations

from collections.abc import Mapping


def largest_remainder(numerators: Mapping[str, int], scale: int, denominator: int) -> dict[str, int]:
    """Round each ``scale * n / denominator`` to whole cents, summing to the floor of the exact total.

    Everyone gets the floor of their exact amount; the cents left over (fewer than the number of
    people with a fractional part) go one each to the largest remainders, ties to the smaller name.
    A zero exact amount is never rounded up.
    """
    if denominator <= 0:
        return dict.fromkeys(numerators, 0)
    floors: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    total = 0
    for name, numerator in numerators.items():
        whole, rest = divmod(scale * numerator, denominator)
        floors[name] = whole
        total += numerator
        if rest:
            remainders.append((-rest, name))
    paid = scale * total // denominator
    left = paid - sum(floors.values())
    remainders.sort()
    for _, name in remainders[:left]:
        floors[name] += 1
    return floors
