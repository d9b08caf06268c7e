"""Prolific's bulk bonus: one ``<participant id>,<amount>`` line per participant."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crowdfill.markets.identity import market_of, prolific_participant_id
from crowdfill.markets.money import cents_to_amount


def bonus_lines(payments: Mapping[str, int]) -> list[str]:
    """The bulk bonus lines for the Prolific workers among ``payments`` (cents), zero amounts left out.

    Amounts are in the study's currency with two decimals; the order is by participant id.
    """
    lines: list[str] = []
    for worker in sorted(payments):
        cents = payments[worker]
        if cents < 0:
            raise ValueError(f"a negative payment for {worker!r}")
        if cents == 0 or market_of(worker) != "prolific":
            continue
        lines.append(f"{prolific_participant_id(worker)},{cents_to_amount(cents)}")
    return lines


def write_bonus_file(path: Path, payments: Mapping[str, int]) -> list[str]:
    """Write the bulk bonus file (paste it into Prolific's bonus dialog or upload it); returns its lines."""
    lines = bonus_lines(payments)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return lines
