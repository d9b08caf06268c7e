"""Money on the marketplaces: our amounts are integer cents; MTurk and Prolific take decimal strings."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")


def cents_to_amount(cents: int) -> str:
    """``123`` -> ``"1.23"``: the decimal string MTurk's ``BonusAmount`` and Prolific's bonus file take."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"an amount in cents must be an int, got {cents!r}")
    if cents < 0:
        raise ValueError(f"an amount cannot be negative, got {cents} cents")
    return f"{cents // 100}.{cents % 100:02d}"


def amount_to_cents(amount: str) -> int:
    """``"1.23"`` -> ``123``; also ``"5"`` and ``"5.5"``. Refuses anything that is not a plain amount."""
    match = _AMOUNT.match(amount.strip())
    if match is None:
        raise ValueError(f"not an amount in dollars or pounds: {amount!r}")
    whole, fraction = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(fraction)
