"""Ties inside a key group, broken toward satisfying the template (DESIGN §2, docs/protocol.md).

A key group's *winners* are its distinct complete value sets of the group's highest score, when
that score is positive. One winner is the group's final row. Several winners are a tie; the choice
among them must be the same on every replica, so it may depend only on the table's state (the set
of operations), never on arrival order. Two rules:

- A tie whose winners all serve the same template rows (a template row is *served* by a row that
  contains its values) cannot change whether the final table satisfies the template: the group
  takes its canonically first winner (``values.sort_key``), as for any tie without a template.
- A tie whose winners serve different template rows is *ambiguous*. While there are ambiguous
  groups, one maximum matching is computed between template rows and groups, canonically: Kuhn's
  augmenting paths over template positions in order, each trying groups in ``repr`` order, with
  edges from a group to the template rows its final row serves, or for an ambiguous group that
  some winner serves. An ambiguous group matched to template row t takes its first winner that
  serves t; an unmatched one takes its first winner that serves some template row, or its first.

That matching is as large as any choice of winners allows, and the chosen winners realise it, so
the final table satisfies the template exactly when some choice of tied winners would. The
central client matches against the same "some winner serves t" edges, so its ``satisfied`` agrees
without knowing the choice. While no group is ambiguous nothing is matched (the rescored groups
are only noted, once a graph exists); while one is, the graph follows the rescored groups and the
matching is redone only when an edge or a tie changed.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from crowdfill.model.events import GroupKey
from crowdfill.model.template import Template
from crowdfill.model.values import Item, Values


@dataclass(frozen=True)
class Tie:
    """An ambiguous group's winners in canonical order, each with its row and the classes it serves."""

    winners: tuple[Values, ...]
    row_ids: tuple[str, ...]
    serves: tuple[frozenset[int], ...]
    served: frozenset[int]  # the classes some winner serves: the group's edges


_NOTHING: frozenset[int] = frozenset()


class TieBreaker:
    """Per table: the template's rows grouped into classes, and the choice among ambiguous winners.

    Template rows with identical values are interchangeable, so edges go to classes of rows; the
    matching still gives each template position its own group. The graph is built when a group is
    first ambiguous; from then on it is brought up to date from the rescored groups (at once while
    some group is ambiguous, else when one is again), and the matching is computed again only when
    an edge or a tie changed: most operations move final rows that serve no template row.
    """

    def __init__(self, template: Template) -> None:
        class_of_values: dict[Values, int] = {}
        self._class_of: list[int] = []
        for values in template.rows:
            self._class_of.append(class_of_values.setdefault(values, len(class_of_values)))
        self._classes: list[Values] = list(class_of_values)
        self._by_item: dict[Item, list[int]] = {}
        for index, values in enumerate(self._classes):
            for item in values:
                self._by_item.setdefault(item, []).append(index)
        self._empty = class_of_values.get(frozenset())
        self.built = False
        self._marked: set[GroupKey] = set()
        self._served: dict[GroupKey, frozenset[int]] = {}  # groups serving some class
        # Per class, the (repr, group) of the groups serving it, sorted: the canonical order.
        self._adjacency: list[list[tuple[str, GroupKey]]] = [[] for _ in self._classes]
        self._changed = True
        self._ties: dict[GroupKey, Tie] = {}
        self._chosen: dict[GroupKey, str] = {}
        # Group -> its final values last seen and the classes they serve: a rescore often keeps them.
        self._known: dict[GroupKey, tuple[Values, frozenset[int]]] = {}

    def serves(self, values: Values) -> frozenset[int]:
        """Template classes whose values are a subset of ``values``."""
        hits: dict[int, int] = {}
        for item in values:
            for index in self._by_item.get(item, ()):
                hits[index] = hits.get(index, 0) + 1
        classes = self._classes
        found = {index for index, count in hits.items() if count == len(classes[index])}
        if self._empty is not None:
            found.add(self._empty)
        return frozenset(found)

    def tie(self, winners: Sequence[tuple[Values, str]]) -> Tie | None:
        """The tie among ``winners`` (canonically ordered (values, row id)), or None unless ambiguous."""
        serves = tuple(self.serves(values) for values, _ in winners)
        if all(s == serves[0] for s in serves):
            return None
        return Tie(
            tuple(v for v, _ in winners), tuple(r for _, r in winners), serves, frozenset().union(*serves)
        )

    def build(self, finals: Iterable[tuple[GroupKey, Values | Tie | None]]) -> None:
        """Build the graph from every group's final values (or tie): ambiguity appears for the first time."""
        for group, final in finals:
            served = self._serving(group, final)
            if served:
                self._served[group] = served
        adjacency = self._adjacency
        for group, served in self._served.items():
            node = (repr(group), group)
            for class_index in served:
                adjacency[class_index].append(node)
        for neighbours in adjacency:
            neighbours.sort()
        self.built = True
        self._changed = True

    def mark(self, groups: Iterable[GroupKey]) -> None:
        """Groups rescored while no group is ambiguous: their edges are brought up to date only
        when ambiguity returns, so that nothing but this set costs anything meanwhile."""
        if self.built:
            self._marked.update(groups)

    def take_marked(self) -> set[GroupKey]:
        """The groups marked since the graph was last brought up to date; forgets the marks."""
        marked = self._marked
        if marked:
            self._marked = set()
        return marked

    def update(self, group: GroupKey, final: Values | Tie | None) -> None:
        """A rescored group's final values, its tie if it is ambiguous, or None without a final row."""
        served = self._serving(group, final)
        old = self._served.get(group, _NOTHING)
        if served == old:
            return
        self._changed = True
        node = (repr(group), group)
        for class_index in old - served:
            neighbours = self._adjacency[class_index]
            del neighbours[bisect_left(neighbours, node)]
        for class_index in served - old:
            insort(self._adjacency[class_index], node)
        if served:
            self._served[group] = served
        else:
            del self._served[group]

    def _serving(self, group: GroupKey, final: Values | Tie | None) -> frozenset[int]:
        if final is None:
            self._known.pop(group, None)
            return _NOTHING
        if isinstance(final, Tie):
            return final.served
        seen = self._known.get(group)
        if seen is not None and seen[0] == final:
            return seen[1]
        served = self.serves(final)
        self._known[group] = (final, served)
        return served

    def choose(self, ties: Mapping[GroupKey, Tie]) -> dict[GroupKey, str]:
        """The row each ambiguous group takes (the graph must be up to date)."""
        if not self._changed and ties == self._ties:
            return self._chosen
        holder = _maximum_matching(self._class_of, self._adjacency)
        matched = {group: position for position, group in enumerate(holder) if group is not None}
        chosen: dict[GroupKey, str] = {}
        for group, tie in ties.items():
            position = matched.get(group)
            if position is not None:
                wanted = self._class_of[position]
                pick = next(i for i, served in enumerate(tie.serves) if wanted in served)
            else:
                pick = next((i for i, served in enumerate(tie.serves) if served), 0)
            chosen[group] = tie.row_ids[pick]
        self._changed, self._ties, self._chosen = False, dict(ties), chosen
        return chosen


def _maximum_matching(
    class_of: Sequence[int], adjacency: Sequence[Sequence[tuple[str, GroupKey]]]
) -> list[GroupKey | None]:
    """Kuhn's algorithm: per template position, in order, the group it holds (or None).

    Deterministic for ordered inputs. A group is never freed once taken, so each class keeps a
    pointer past the groups known taken; a class whose search failed fails again until some
    search succeeds, and so do the groups that search visited.
    """
    holder: list[GroupKey | None] = [None] * len(class_of)
    taken_by: dict[GroupKey, int] = {}
    cursor = [0] * len(adjacency)
    failed: set[int] = set()
    dead: set[GroupKey] = set()  # groups from which no alternating path reaches a free group

    def free_neighbour(class_index: int) -> GroupKey | None:
        neighbours = adjacency[class_index]
        at = cursor[class_index]
        while at < len(neighbours) and neighbours[at][1] in taken_by:
            at += 1
        cursor[class_index] = at
        return neighbours[at][1] if at < len(neighbours) else None

    for start, start_class in enumerate(class_of):
        if start_class in failed:
            continue
        # Depth-first search for an augmenting path; path[k] = (position, its neighbours left).
        visited: set[GroupKey] = set()
        path: list[tuple[int, Iterator[tuple[str, GroupKey]]]] = [(start, iter(adjacency[start_class]))]
        through: list[GroupKey] = []  # through[k]: the group path[k] would take
        found: GroupKey | None = None
        while path:
            position, neighbours = path[-1]
            found = free_neighbour(class_of[position])
            if found is not None:
                break
            step = next((g for _, g in neighbours if g not in visited and g not in dead), None)
            if step is None:
                path.pop()
                if through:
                    through.pop()
                continue
            visited.add(step)
            through.append(step)
            owner = taken_by[step]  # every neighbour is taken, or free_neighbour would have found one
            path.append((owner, iter(adjacency[class_of[owner]])))
        if found is None:
            failed.add(start_class)
            dead |= visited
            continue
        for (position, _), group in zip(path, [*through, found], strict=True):
            holder[position] = group
            taken_by[group] = position
        failed.clear()
        dead.clear()
    return holder
