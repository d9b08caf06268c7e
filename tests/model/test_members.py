from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdfill.model.members import LIMIT, Members, added, compact, discarded

_steps = st.lists(st.tuples(st.booleans(), st.integers(0, 2 * LIMIT)), max_size=60)


@given(_steps)
def test_a_holder_has_the_members_a_set_would_have_after_any_adds_and_discards(
    steps: list[tuple[bool, int]],
) -> None:
    holder: Members[int] = ()
    expected: set[int] = set()
    for add, member in steps:
        holder = added(holder, member) if add else discarded(holder, member)
        if add:
            expected.add(member)
        else:
            expected.discard(member)
        assert set(holder) == expected
        assert len(holder) == len(expected)


def test_a_holder_stays_a_tuple_up_to_the_limit_and_becomes_a_set_past_it() -> None:
    holder: Members[int] = ()
    for member in range(LIMIT):
        holder = added(holder, member)
    assert isinstance(holder, tuple)
    assert isinstance(added(holder, LIMIT), set)


def test_updating_a_small_holder_leaves_the_old_tuple_as_it_was() -> None:
    before: Members[str] = ("ann",)
    assert added(before, "bob") == ("ann", "bob")
    assert discarded(before, "ann") == ()
    assert before == ("ann",)


def test_compact_keeps_a_big_set_and_turns_a_small_one_into_a_tuple() -> None:
    big = set(range(LIMIT + 1))
    assert compact(big) is big
    assert compact({1}) == (1,)
    assert compact(set()) == ()
