"""The tally: counts follow from the vote records alone, whatever the order of rows and votes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model import Values
from crowdfill.model.tally import Tally

COLUMNS = ("a", "b", "c", "d", "e")
value_sets: st.SearchStrategy[Values] = st.dictionaries(
    st.sampled_from(COLUMNS), st.integers(0, 2), min_size=1, max_size=len(COLUMNS)
).map(lambda mapping: frozenset(mapping.items()))
workers = st.sampled_from(["w1", "w2", "w3", "w4"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("track"), value_sets),
        st.tuples(st.just("untrack"), value_sets),
        st.tuples(st.sampled_from(["up", "down"]), st.tuples(workers, value_sets)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)  # no per-example deadline: CI machines are shared
@given(steps=steps, probes=st.lists(value_sets, min_size=1, max_size=10))
def test_counts_equal_a_recount_from_the_records(
    steps: list[tuple[str, object]], probes: list[Values]
) -> None:
    tally = Tally()
    ups: set[tuple[str, Values]] = set()
    downs: set[tuple[str, Values]] = set()
    tracked: set[Values] = set()
    for kind, argument in steps:
        if kind == "track":
            assert isinstance(argument, frozenset)
            tally.track(argument)
            tracked.add(argument)
        elif kind == "untrack":
            assert isinstance(argument, frozenset)
            tally.untrack(argument)
            tracked.discard(argument)
        else:
            assert isinstance(argument, tuple)
            worker, values = argument
            if kind == "up":
                assert tally.record_up(worker, values) == ((worker, values) not in ups)
                ups.add((worker, values))
            else:
                grown = tally.record_down(worker, values)
                assert (grown is None) == ((worker, values) in downs)
                downs.add((worker, values))
    for values in [*probes, *tracked]:
        expected_up = {w for w, v in ups if v == values}
        expected_down = {w for w, v in downs if v <= values}
        assert tally.upvoters(values) == expected_up
        assert tally.downvoters(values) == expected_down
        held_up, held_down = tally.voters(values)  # as held: each voter once
        assert sorted(held_up) == sorted(expected_up)
        assert sorted(held_down) == sorted(expected_down)
        assert (tally.up(values), tally.down(values)) == (len(expected_up), len(expected_down))
        for worker in ("w1", "w2", "w3", "w4"):
            assert tally.counts_worker(worker, values) == (worker in expected_up | expected_down)
        assert set(tally.tracked_supersets(values)) == {t for t in tracked if values <= t}
    records = list(tally.records())
    assert len(records) == len(ups) + len(downs)
    assert set(records) == {(w, "up", v) for w, v in ups} | {(w, "down", v) for w, v in downs}


def test_a_downvote_reports_the_tracked_sets_whose_count_grew() -> None:
    tally = Tally()
    partial = frozenset({("a", 1)})
    fuller = frozenset({("a", 1), ("b", 2)})
    other = frozenset({("b", 2)})
    for values in (partial, fuller, other):
        tally.track(values)
    assert sorted(map(sorted, tally.record_down("w1", partial) or [])) == sorted(
        map(sorted, [partial, fuller])
    )
    assert tally.record_down("w1", fuller) == []  # w1 already counts against the fuller set
    assert tally.record_down("w1", fuller) is None  # the very same record again


def test_downvoters_are_found_both_by_subsets_and_by_scanning_anchored_records() -> None:
    # Many records make enumerating the 2^3 subsets the cheaper way; a wide row makes scanning cheaper.
    tally = Tally()
    for n in range(40):
        tally.record_down(f"w{n}", frozenset({("a", 1), ("n", n)}))
    tally.record_down("x", frozenset({("a", 1)}))
    assert tally.downvoters(frozenset({("a", 1), ("n", 3), ("z", 0)})) == {"w3", "x"}
    wide = frozenset({("a", 1), ("n", 5)} | {(f"c{i}", i) for i in range(25)})
    assert tally.downvoters(wide) == {"w5", "x"}


def test_a_downvote_on_no_values_is_ignored_rather_than_counted_against_every_row() -> None:
    tally = Tally()
    row = frozenset({("a", 1)})
    tally.track(row)
    assert tally.record_down("w1", frozenset()) is None
    assert tally.down(row) == 0
    assert not tally.counts_worker("w1", row)
    assert list(tally.records()) == []


def test_a_retract_removes_the_record_and_shrinks_d_of_every_tracked_superset() -> None:
    tally = Tally()
    partial = frozenset({("a", 1)})
    fuller = frozenset({("a", 1), ("b", 2)})
    for values in (partial, fuller):
        tally.track(values)
    tally.record_down("w1", partial)
    tally.record_up("w2", fuller)
    shrunk = tally.retract("w1", "down", partial)
    assert sorted(map(sorted, shrunk or [])) == sorted(map(sorted, [partial, fuller]))
    assert (tally.down(partial), tally.down(fuller)) == (0, 0)
    assert not tally.counts_worker("w1", fuller)
    assert tally.retract("w2", "up", fuller) == [fuller]
    assert tally.up(fuller) == 0
    assert list(tally.records()) == []
    assert set(tally.retractions()) == {("w1", "down", partial), ("w2", "up", fuller)}


def test_a_retract_is_idempotent_and_beats_a_record_that_arrives_later() -> None:
    tally = Tally()
    row = frozenset({("a", 1)})
    tally.track(row)
    assert tally.retract("w1", "down", row) == []  # nothing to remove yet: only the tombstone
    assert tally.retract("w1", "down", row) is None  # the same retract again
    assert tally.record_down("w1", row) is None
    assert tally.down(row) == 0
    assert tally.retract("w1", "up", row) == []
    assert tally.record_up("w1", row) is False
    assert tally.record_down("w2", row) == [row]  # tombstones are per worker


def test_a_worker_with_two_downvotes_on_parts_of_a_row_counts_until_both_are_retracted() -> None:
    tally = Tally()
    left, right = frozenset({("a", 1)}), frozenset({("b", 2)})
    both = left | right
    tally.track(both)
    tally.record_down("w1", left)
    tally.record_down("w1", right)
    assert tally.retract("w1", "down", left) == []
    assert tally.downvoters(both) == {"w1"}
    assert tally.retract("w1", "down", right) == [both]
    assert tally.downvoters(both) == frozenset()
    # Untracked value sets are recounted from the records: the retracted ones are gone there too.
    assert tally.downvoters(left | {("c", 3)}) == frozenset()
