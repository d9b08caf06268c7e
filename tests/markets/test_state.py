from __future__ import annotations

import json
from pathlib import Path

import pytest

from crowdfill.markets.state import HitRecord, MarketState, PaymentRecord, StateError
from tests.markets.support import TABLE


def test_a_missing_state_file_is_a_fresh_state(tmp_path: Path) -> None:
    state = MarketState.load(tmp_path / "none" / "mturk.json", TABLE)
    assert (state.hits, state.payments, state.environment) == ([], {}, None)


def test_every_change_is_saved_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "mturk.json"
    state = MarketState.load(path, TABLE)
    state.use_environment("sandbox")
    state.add_hit(HitRecord("HIT1", "T", "G", "https://x/w/soccer", 50, 3))
    state.mark_approved("A1")
    state.record_payment(PaymentRecord("mturk:W1", 120, "A1", "tok", "paid"))
    state.record_block("mturk:W2", "spam")
    again = MarketState.load(path, TABLE)
    assert again.to_dict() == state.to_dict()
    assert again.paid_cents() == 120
    assert not list(tmp_path.glob(".state-*")), "no temporary file is left behind"


def test_a_state_file_of_another_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mturk.json"
    MarketState.load(path, "other").save()
    with pytest.raises(StateError, match="records table 'other'"):
        MarketState.load(path, TABLE)


def test_sandbox_and_live_records_are_never_mixed(tmp_path: Path) -> None:
    path = tmp_path / "mturk.json"
    state = MarketState.load(path, TABLE)
    state.use_environment("live")
    state.add_hit(HitRecord("HIT1", "T", "G", "https://x/w/soccer", 50, 3))
    with pytest.raises(StateError, match="add --live"):
        MarketState.load(path, TABLE).use_environment("sandbox")


def test_a_corrupt_state_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "mturk.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StateError, match="cannot read"):
        MarketState.load(path, TABLE)
    assert path.read_text(encoding="utf-8") == "{not json"


def test_the_state_file_is_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "mturk.json"
    MarketState.load(path, TABLE).use_environment("sandbox")
    assert json.loads(path.read_text(encoding="utf-8"))["environment"] == "sandbox"


def test_the_environment_can_change_while_no_hit_was_published(tmp_path: Path) -> None:
    state = MarketState.load(tmp_path / "mturk.json", TABLE)
    state.use_environment("sandbox")
    state.use_environment("live")
    assert MarketState.load(tmp_path / "mturk.json", TABLE).environment == "live"
