from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdfill.markets.money import amount_to_cents, cents_to_amount


@pytest.mark.parametrize(
    ("cents", "amount"), [(0, "0.00"), (1, "0.01"), (10, "0.10"), (123, "1.23"), (100_000, "1000.00")]
)
def test_cents_become_a_two_decimal_dollar_string(cents: int, amount: str) -> None:
    assert cents_to_amount(cents) == amount


@given(st.integers(min_value=0, max_value=10**10))
def test_an_amount_reads_back_as_the_same_cents(cents: int) -> None:
    assert amount_to_cents(cents_to_amount(cents)) == cents


@pytest.mark.parametrize(("amount", "cents"), [("5", 500), ("5.5", 550), ("0.07", 7), (" 2.30 ", 230)])
def test_amounts_written_by_a_marketplace_are_read_as_cents(amount: str, cents: int) -> None:
    assert amount_to_cents(amount) == cents


@pytest.mark.parametrize("amount", ["", "-1.00", "1.234", "$1", "1,00", "abc"])
def test_anything_but_a_plain_amount_is_refused(amount: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        amount_to_cents(amount)


def test_negative_or_non_integer_cents_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        cents_to_amount(-1)
    with pytest.raises(TypeError):
        cents_to_amount(True)
