"""The incremental matching: edits, augmenting paths, and the backward search for new starts."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.central_client.matching import IncrementalMatching
from crowdfill.model import GroupKey


def group(name: str) -> GroupKey:
    return ("row", name)


def test_groups_with_the_same_classes_share_one_tuple_of_them() -> None:
    matching = IncrementalMatching([[0], [1]])
    for name in ("x", "y"):
        matching.set_edges(group(name), {0, 1})
    assert matching.classes_of(group("x")) == (0, 1)
    assert matching.classes_of(group("x")) is matching.classes_of(group("y"))


def test_an_augmenting_path_moves_a_holder_to_free_a_group_for_a_new_row() -> None:
    matching = IncrementalMatching([[0], [1]])
    matching.set_edges(group("x"), {0, 1})
    matching.set_edges(group("y"), {0})
    matching.assign(1, group("x"))
    matching.set_edges(group("y"), {0})

    assert not matching.augment(1)
    assert matching.augment(0)
    assert matching.assignment() == {0: group("y"), 1: group("x")}


def test_a_path_through_a_row_held_by_the_searching_class_is_found() -> None:
    matching = IncrementalMatching([[0], [1]])
    matching.set_edges(group("x"), {0, 1})
    matching.set_edges(group("y"), {1})
    matching.assign(0, group("x"))

    assert matching.augment(1)
    assert matching.free_count == 0


def test_removing_the_edge_a_row_holds_frees_that_row() -> None:
    matching = IncrementalMatching([[0, 1]])
    matching.set_edges(group("x"), {0})
    matching.assign(0, group("x"))

    freed, gained = matching.set_edges(group("x"), set())

    assert (freed, gained) == ({0}, set())
    assert matching.assignment() == {}
    assert matching.free_in(0) == 2
    assert matching.classes_of(group("x")) == ()


def test_a_blocked_class_is_never_rerouted() -> None:
    matching = IncrementalMatching([[0], [1]], transit_blocked=[1])
    matching.set_edges(group("x"), {0, 1})
    matching.set_edges(group("y"), {1})
    matching.assign(1, group("x"))

    assert not matching.augment(0)


def test_a_failed_search_marks_what_it_visited_as_dead() -> None:
    matching = IncrementalMatching([[0], [1], [2]])
    matching.set_edges(group("x"), {0, 1, 2})
    matching.assign(1, group("x"))
    dead: set[int] = set()

    assert not matching.augment(0, dead)
    assert dead == {0, 1}
    assert not matching.augment(2, dead)


def test_a_class_with_fewer_neighbours_than_rows_is_counted_short() -> None:
    matching = IncrementalMatching([[0, 1], [2]])
    assert matching.short_classes == 2

    matching.set_edges(group("x"), {0, 1})
    assert matching.short_classes == 1
    matching.set_edges(group("y"), {0})
    assert matching.short_classes == 0
    matching.set_edges(group("x"), {1})
    assert matching.short_classes == 1


edge_sets = st.lists(
    st.tuples(st.integers(0, 7), st.frozensets(st.integers(0, 4), max_size=4)), min_size=1, max_size=40
)


@settings(max_examples=150)
@given(capacities=st.lists(st.integers(1, 3), min_size=5, max_size=5), edits=edge_sets)
def test_repairing_after_each_edit_keeps_the_matching_maximum(
    capacities: list[int], edits: list[tuple[int, frozenset[int]]]
) -> None:
    positions = [list(range(sum(capacities[:c]), sum(capacities[: c + 1]))) for c in range(5)]
    matching = IncrementalMatching(positions)
    edges: dict[GroupKey, frozenset[int]] = {}
    for name, classes in edits:
        g = group(str(name))
        edges[g] = classes
        matching.set_edges(g, set(classes))
        dead: set[int] = set()
        for class_index in matching.free_classes():
            while class_index not in dead and matching.augment(class_index, dead):
                dead.clear()
        assignment = matching.assignment()
        assert len(set(assignment.values())) == len(assignment)
        for position, held in assignment.items():
            assert matching.class_of(position) in edges[held]
        assert len(assignment) == reference_size(positions, edges)


def reference_size(positions: list[list[int]], edges: dict[GroupKey, frozenset[int]]) -> int:
    graph = nx.Graph()
    top = [("t", p) for ps in positions for p in ps]
    graph.add_nodes_from(top)
    for g, classes in edges.items():
        for class_index in classes:
            for position in positions[class_index]:
                graph.add_edge(("t", position), ("g", g))
    return len(nx.bipartite.hopcroft_karp_matching(graph, top_nodes=top)) // 2
