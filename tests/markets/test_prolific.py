from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdfill.markets.money import amount_to_cents
from crowdfill.markets.prolific import bonus_lines, write_bonus_file


def test_one_line_per_prolific_participant_with_two_decimals() -> None:
    payments = {"prolific:5f3a": 125, "prolific:0b7c": 1000, "mturk:W1": 300, "alice": 40}
    assert bonus_lines(payments) == ["0b7c,10.00", "5f3a,1.25"]


def test_participants_owed_nothing_are_left_out() -> None:
    assert bonus_lines({"prolific:5f3a": 0}) == []


def test_a_negative_payment_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        bonus_lines({"prolific:5f3a": -1})


@given(st.dictionaries(st.from_regex(r"[a-f0-9]{6}", fullmatch=True), st.integers(0, 10**6)))
def test_the_file_adds_up_to_what_the_prolific_workers_are_owed(owed: dict[str, int]) -> None:
    lines = bonus_lines({f"prolific:{pid}": cents for pid, cents in owed.items()})
    assert sum(amount_to_cents(line.split(",")[1]) for line in lines) == sum(owed.values())
    assert len(lines) == sum(1 for cents in owed.values() if cents)


def test_the_bonus_file_ends_every_line(tmp_path: Path) -> None:
    path = tmp_path / "out" / "bonuses.csv"
    write_bonus_file(path, {"prolific:5f3a": 5})
    assert path.read_text(encoding="utf-8") == "5f3a,0.05\n"
