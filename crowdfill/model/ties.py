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
without knowing the choice. Ambiguity is rare and short-lived (a vote ends it), so the matching is
only computed while an ambiguous group exists; what each final row serves is cached by its values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

    def served(self) -> frozenset[int]:
        return frozenset().union(*self.serves)


class TieBreaker:
    """Per table: the template's rows grouped into classes, and the choice among ambiguous winners.

    Template rows with identical values are interchangeable, so edges go to classes of rows; the
    matching still gives each template position its own group.
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
        # Group -> (the final values last seen, their repr-order key, the classes they serve).
        self._cache: dict[GroupKey, tuple[Values, str, frozenset[int]]] = {}

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
        return Tie(tuple(v for v, _ in winners), tuple(r for _, r in winners), serves)

    def resolve(
        self, finals: Iterable[tuple[GroupKey, Values]], ties: Mapping[GroupKey, Tie]
    ) -> dict[GroupKey, str]:
        """The row each ambiguous group takes, given the other groups' final values."""
        cache = self._cache
        fresh: dict[GroupKey, tuple[Values, str, frozenset[int]]] = {}
        for group, values in finals:
            entry = cache.get(group)
            if entry is None or entry[0] != values:
                entry = (values, repr(group), self.serves(values))
            fresh[group] = entry
        self._cache = fresh
        edges = [(order, group, served) for group, (_, order, served) in fresh.items() if served]
        edges.extend((repr(group), group, tie.served()) for group, tie in ties.items())
        edges.sort(key=lambda edge: edge[0])
        adjacency: list[list[int]] = [[] for _ in self._classes]
        for index, (_, _, served) in enumerate(edges):
            for class_index in served:
                adjacency[class_index].append(index)
        holder = _maximum_matching(self._class_of, adjacency, len(edges))
        position_of = {index: position for position, index in enumerate(holder) if index is not None}
        chosen: dict[GroupKey, str] = {}
        for index, (_, group, _) in enumerate(edges):
            tie = ties.get(group)
            if tie is None:
                continue
            position = position_of.get(index)
            wanted = self._class_of[position] if position is not None else None
            pick = next(
                (i for i, s in enumerate(tie.serves) if (wanted in s if wanted is not None else bool(s))),
                0,
            )
            chosen[group] = tie.row_ids[pick]
        return chosen


def _maximum_matching(
    class_of: Sequence[int], adjacency: Sequence[Sequence[int]], groups: int
) -> list[int | None]:
    """Kuhn's algorithm: per template position, in order, the group index it holds (or None).

    Deterministic for ordered inputs. A group is never freed once taken, so each class keeps a
    pointer past the groups known taken; a class whose search failed fails again until some
    search succeeds, and so do the groups that search visited.
    """
    holder: list[int | None] = [None] * len(class_of)
    taken_by: list[int | None] = [None] * groups
    cursor = [0] * len(adjacency)
    failed: set[int] = set()
    dead: set[int] = set()  # groups from which no alternating path reaches a free group

    def free_neighbour(class_index: int) -> int | None:
        neighbours = adjacency[class_index]
        at = cursor[class_index]
        while at < len(neighbours) and taken_by[neighbours[at]] is not None:
            at += 1
        cursor[class_index] = at
        return neighbours[at] if at < len(neighbours) else None

    for start, start_class in enumerate(class_of):
        if start_class in failed:
            continue
        # Depth-first search for an augmenting path; path[k] = (position, neighbour iterator).
        visited: set[int] = set()
        path: list[tuple[int, Iterable[int]]] = [(start, iter(adjacency[start_class]))]
        through: list[int] = []  # through[k]: the group path[k] would take
        found: int | None = None
        while path and found is None:
            position, neighbours = path[-1]
            free = free_neighbour(class_of[position])
            if free is not None:
                found = free
                break
            step = next((g for g in neighbours if g not in visited and g not in dead), None)
            if step is None:
                path.pop()
                if through:
                    through.pop()
                continue
            visited.add(step)
            owner = taken_by[step]
            assert owner is not None  # every neighbour is taken, or free_neighbour would have found it
            through.append(step)
            path.append((owner, iter(adjacency[class_of[owner]])))
        if found is None:
            failed.add(start_class)
            dead |= visited
            continue
        targets = [*through, found]
        for (position, _), group in zip(path, targets, strict=True):
            holder[position] = group
            taken_by[group] = position
        failed.clear()
        dead.clear()
    return holder
