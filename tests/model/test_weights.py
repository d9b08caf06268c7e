"""Vote weights (``reputation`` scoring): set by sequenced reweighs, the highest version wins."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdfill.model import CandidateTable, FillerNotCounted, MalformedMessage, Reweigh, Scoring
from crowdfill.model.codec import reweigh_from_wire, reweigh_to_wire, sequenced_from_wire, sequenced_to_wire
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.model.snapshot import restore, snapshot
from crowdfill.model.weights import Weights
from tests.model.support import MESSI, RONALDINHO_FW, RONALDINHO_MF, Builder, soccer_table, values

reweighs = st.builds(
    Reweigh,
    st.sampled_from(["w1", "w2", "w3"]),
    st.sampled_from([0.0, 0.25, 1.0, 1.5, 2.0]),
    st.integers(1, 4),
) | st.builds(Reweigh, st.sampled_from(["w1", "w2", "w3"]), st.just(0.0), st.integers(1, 4), st.just(True))


@given(st.lists(reweighs, max_size=12), st.randoms(use_true_random=False))
def test_the_weights_depend_on_the_set_of_reweighs_not_their_order(
    ops: list[Reweigh], rng: random.Random
) -> None:
    first, second = Weights(), Weights()
    for op in ops:
        first.apply(op)
    shuffled = [*ops, *ops]
    rng.shuffle(shuffled)
    for op in shuffled:
        second.apply(op)
    assert first.reweighs() == second.reweighs()
    for worker in ("w1", "w2", "w3"):
        mine = [op for op in ops if op.worker == worker]
        winner = max(mine, key=lambda op: (op.version, op.weight, op.excluded)) if mine else None
        assert first.weight(worker) == (winner.weight if winner else 1.0)
        assert first.excluded(worker) == (winner is not None and winner.excluded)
        assert (worker in first.silent) == (first.weight(worker) == 0.0)


@given(st.lists(reweighs, max_size=8), st.sets(st.sampled_from(["w1", "w2", "w3", "w4"])))
def test_the_total_of_distinct_workers_is_their_exact_sum_with_or_without_reweighs(
    ops: list[Reweigh], workers: set[str]
) -> None:
    weights = Weights()
    for op in ops:
        weights.apply(op)
    expected = math.fsum(weights.weight(worker) for worker in workers)
    assert weights.total_of(tuple(workers)) == expected
    assert weights.total_of(workers) == weights.total(workers)


def test_an_older_reweigh_arriving_late_changes_nothing() -> None:
    weights = Weights()
    assert weights.apply(Reweigh("w1", 0.0, 2))
    assert not weights.apply(Reweigh("w1", 2.0, 1))
    assert weights.weight("w1") == 0.0
    assert not weights.apply(Reweigh("w2", 1.0, 1))  # a newcomer already weighs 1


def test_sums_of_weights_are_exact_whatever_the_order_of_the_voters() -> None:
    weights = Weights()
    for number, weight in enumerate([0.1, 0.2, 0.3, 1e-9, 0.7]):
        weights.apply(Reweigh(f"w{number}", weight, 1))
    workers = [f"w{number}" for number in range(5)]
    totals = {weights.total(order) for order in (workers, workers[::-1], sorted(workers, key=hash))}
    assert totals == {math.fsum([0.1, 0.2, 0.3, 1e-9, 0.7])}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("", 1.0, 1), "worker"),
        (("w1", float("nan"), 1), "finite"),
        (("w1", -0.5, 1), "between"),
        (("w1", True, 1), "finite"),
        (("w1", 1.0, 0), "version"),
        (("w1", 1.0, "2"), "version"),
    ],
)
def test_a_malformed_reweigh_is_refused_with_a_clear_error(fields: tuple[Any, ...], message: str) -> None:
    with pytest.raises(MalformedMessage, match=message):
        Reweigh(*fields)


def test_a_reweigh_round_trips_on_the_wire_and_the_codec_tells_it_from_worker_operations() -> None:
    op = Reweigh("w1", 0.5, 3)
    wire = json.loads(json.dumps(reweigh_to_wire(op)))
    assert reweigh_from_wire(wire) == op == sequenced_from_wire(sequenced_to_wire(op))
    with pytest.raises(MalformedMessage, match="reweigh"):
        reweigh_from_wire({"type": "upvote", "worker": "w1"})
    with pytest.raises(MalformedMessage, match="version"):
        reweigh_from_wire({"type": "reweigh", "worker": "w1", "weight": 1})


def _contest(scoring: Scoring) -> tuple[CandidateTable, str, str]:
    """Two rows of one key: MF upvoted by w1, w2 and w3; FW by w4 and w5."""
    table = soccer_table(scoring)
    build = Builder(table)
    mf = build.row_with("w1", RONALDINHO_MF)
    for worker in ("w2", "w3"):
        build.upvote(worker, mf)
    fw = build.row_with("w4", RONALDINHO_FW)
    build.upvote("w5", fw)
    return table, mf, fw


def test_under_reputation_scoring_quarantining_voters_hands_the_key_to_the_other_row() -> None:
    table, mf, fw = _contest(Scoring("reputation"))
    assert [row.row_id for row in table.final_table()] == [mf]
    table.integrate(Reweigh("w2", 0.0, 1))
    table.integrate(Reweigh("w3", 0.0, 1))
    assert table.score(mf) == 0  # one weighted vote is below the two the gate needs
    assert [row.row_id for row in table.final_table()] == [fw]
    # A later reweigh restores w2 and w3, and the table is as before.
    table.integrate(Reweigh("w2", 1.0, 2))
    table.integrate(Reweigh("w3", 1.5, 2))
    assert table.score(mf) == 3.5
    assert [row.row_id for row in table.final_table()] == [mf]
    assert table.up(mf) == 3  # counts of voters are unchanged: weights only change scores


def test_other_families_count_voters_whatever_their_positive_weights() -> None:
    table, mf, _ = _contest(Scoring())
    before = table.score(mf)
    assert table.integrate(Reweigh("w2", 2.0, 1)) == []
    assert table.integrate(Reweigh("w2", 0.5, 2)) == []
    assert table.score(mf) == before == 3
    assert table.weight("w2") == 0.5


def test_other_families_stop_counting_a_worker_at_weight_zero_and_count_them_again_after() -> None:
    table, mf, _ = _contest(Scoring())
    assert table.score(mf) == 3
    table.integrate(Reweigh("w2", 0.0, 1, excluded=True))
    assert table.score(mf) == 2
    assert table.excluded("w2")
    assert table.excluded_workers() == {"w2"}
    table.integrate(Reweigh("w2", 1.0, 2))
    assert table.score(mf) == 3
    assert not table.excluded("w2")


def test_an_exclusion_must_weigh_zero_and_travels_on_the_wire_only_when_set() -> None:
    with pytest.raises(MalformedMessage, match="excluded worker weighs 0"):
        Reweigh("w1", 0.5, 1, excluded=True)
    assert "excluded" not in reweigh_to_wire(Reweigh("w1", 0.5, 1))
    wire = reweigh_to_wire(Reweigh("w1", 0.0, 3, excluded=True))
    assert wire["excluded"] is True
    assert reweigh_from_wire(json.loads(json.dumps(wire))) == Reweigh("w1", 0.0, 3, excluded=True)
    with pytest.raises(MalformedMessage, match="excluded flag"):
        reweigh_from_wire({**wire, "excluded": "yes"})


def test_weights_survive_a_snapshot_and_an_old_snapshot_without_them_weighs_everyone_one() -> None:
    table, mf, _ = _contest(Scoring("reputation"))
    table.integrate(Reweigh("w1", 2.0, 1))
    state = json.loads(json.dumps(snapshot(table)))
    copy = restore(table.schema, table.scoring, table.template, state)
    assert copy.fingerprint() == table.fingerprint()
    assert copy.score(mf) == 4.0
    del state["weights"]
    old = restore(table.schema, table.scoring, table.template, state)
    assert old.score(mf) == 3.0


def test_a_messi_row_with_one_weighted_vote_of_two_passes_the_gate() -> None:
    table = soccer_table(Scoring("reputation"))
    build = Builder(table)
    messi = build.row_with("w1", MESSI)
    assert table.score(messi) == 0
    table.integrate(Reweigh("w1", 2.0, 1))
    assert table.score(messi) == 2.0
    assert [row.row_id for row in table.final_table()] == [messi]


@pytest.mark.parametrize("scoring", [Scoring("reputation", min_votes=3), Scoring()])
def test_a_worker_at_weight_zero_may_not_fill_and_may_again_once_a_reweigh_lifts_them(
    scoring: Scoring,
) -> None:
    table = CandidateTable(SOCCER_PLAYER, scoring)
    builder = Builder(table)
    row = builder.insert({"name": "Messi"})
    table.integrate(Reweigh("w1", 0.0, 1))
    with pytest.raises(FillerNotCounted, match="'w1' counts for nothing"):
        builder.fill("w1", row, "nationality", "Argentina")
    assert table.row(row).values == values({"name": "Messi"}), "a refused fill changes nothing"
    table.integrate(Reweigh("w2", 0.0, 1, excluded=True))
    with pytest.raises(FillerNotCounted):
        builder.fill("w2", row, "nationality", "Argentina")
    builder.fill("w3", row, "nationality", "Argentina")  # others fill as before
    table.integrate(Reweigh("w1", 0.25, 2))
    builder.fill("w1", builder.insert({"name": "Neymar"}), "nationality", "Brazil")
