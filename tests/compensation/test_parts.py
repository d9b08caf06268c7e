"""The small parts: fixed-point row weights, largest-remainder rounding, the Fenwick tree."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.compensation.fenwick import Fenwick
from crowdfill.compensation.rounding import largest_remainder
from crowdfill.compensation.weights import ONE, Decay


def test_row_weights_fall_by_the_growth_factor_per_row_in_exact_fixed_point() -> None:
    decay = Decay(Fraction(11, 10))
    assert decay[0] == ONE
    assert decay[1] == ONE * 10 // 11
    assert decay[2] == (ONE * 10 // 11) * 10 // 11
    assert abs(Fraction(decay[50], ONE) - Fraction(10, 11) ** 50) < Fraction(1, 2**80)


def test_a_growth_of_one_weighs_every_row_the_same() -> None:
    decay = Decay(Fraction(1))
    assert {decay[d] for d in range(0, 1000, 37)} == {ONE}


def test_weights_of_very_early_rows_reach_zero_and_stay_there() -> None:
    decay = Decay(Fraction(100))
    assert decay[14] > 0  # 100**14 < 2**96
    assert decay[15] == 0
    assert decay[10**6] == 0


def test_largest_remainder_gives_the_left_over_cents_to_the_largest_fractions() -> None:
    # exact amounts 1.5, 1.25, 0.25 out of a total of 3
    assert largest_remainder({"a": 6, "b": 5, "c": 1}, 1, 4) == {"a": 2, "b": 1, "c": 0}


def test_ties_in_the_remainder_go_to_the_worker_id_that_sorts_first() -> None:
    assert largest_remainder({"zed": 1, "amy": 1, "bob": 1}, 1, 3) == {"zed": 0, "amy": 1, "bob": 0}
    assert largest_remainder({"zed": 2, "amy": 2, "bob": 2}, 1, 3) == {"zed": 0, "amy": 1, "bob": 1}


@settings(deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 10**6), max_size=12),
    st.integers(1, 10**7),
)
def test_rounded_amounts_sum_to_the_floor_of_the_exact_total_and_stay_within_a_cent(
    numerators: dict[str, int], denominator: int
) -> None:
    scale = 997
    rounded = largest_remainder(numerators, scale, denominator)
    exact = {name: Fraction(scale * n, denominator) for name, n in numerators.items()}
    assert sum(rounded.values()) == int(sum(exact.values(), Fraction(0)))
    for name, cents in rounded.items():
        assert 0 <= cents - exact[name] < 1 or 0 <= exact[name] - cents < 1
        if exact[name] == 0:
            assert cents == 0


def test_the_fenwick_tree_counts_below_an_index_while_growing() -> None:
    rng = random.Random(7)
    tree = Fenwick(2)
    counts = [0] * 500
    for _ in range(2000):
        index = rng.randrange(500)
        delta = rng.choice((1, 1, -1)) if counts[index] else 1
        counts[index] += delta
        tree.add(index, delta)
        probe = rng.randrange(600)
        assert tree.below(probe) == sum(counts[:probe])
