"""A maximum bipartite matching between template classes and key groups, kept up to date by edits.

Left nodes are template classes (ints) with one slot per template row of the class; right nodes are
key groups (tuples), each taken by at most one template row. The graph is two plain adjacency
maps (per class, its groups in the order their edges were added; per group, its classes), which a
big table's restored state holds far more compactly than a general graph library's nodes and edge
attribute dicts (docs/scale.md, "Memory"). The matching is repaired after each edit by
augmenting-path searches that start only where an edit can have created a path, never by
recomputing it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from crowdfill.model import GroupKey


class IncrementalMatching:
    def __init__(
        self, class_positions: Sequence[Sequence[int]], transit_blocked: Collection[int] = ()
    ) -> None:
        """``class_positions[c]`` are the template positions of class c.

        ``transit_blocked`` classes are never re-routed by a search started elsewhere (a key-fixing
        class can only use its own group, so routing through it is a dead end anyway).
        """
        # Per class, its neighbouring groups in the order their edges were added (a search tries
        # them in that order); per group, its neighbouring classes (an unordered few).
        self._adj: list[dict[GroupKey, None]] = [{} for _ in class_positions]
        self._classes: dict[GroupKey, tuple[int, ...]] = {}
        # Each distinct tuple of classes, once: a template has few classes, so its groups' class
        # tuples take few values, and a big table's groups share them (docs/scale.md, "Memory").
        self._shapes: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._class_of: dict[int, int] = {}
        self._free: list[list[int]] = []
        for class_index, positions in enumerate(class_positions):
            self._free.append(sorted(positions, reverse=True))
            for position in positions:
                self._class_of[position] = class_index
        self._capacity = [len(positions) for positions in class_positions]
        self._holder: dict[GroupKey, int] = {}
        self._served: dict[int, GroupKey] = {}
        # Per class, its neighbours that nobody holds (insertion-ordered): a search takes one of
        # these at once instead of scanning every neighbour of a class with thousands of them.
        self._open: list[dict[GroupKey, None]] = [{} for _ in class_positions]
        self._blocked = frozenset(transit_blocked)
        self._free_count = sum(self._capacity)
        self._classes_with_free = {c for c, capacity in enumerate(self._capacity) if capacity}
        self._short = sum(1 for capacity in self._capacity if capacity > 0)

    # ----------------------------------------------------------------------------- reading
    @property
    def free_count(self) -> int:
        """Template rows without a group."""
        return self._free_count

    @property
    def short_classes(self) -> int:
        """Classes with fewer neighbours than rows: while there is one, no matching is complete."""
        return self._short

    def free_in(self, class_index: int) -> int:
        return len(self._free[class_index])

    def free_classes(self) -> list[int]:
        return sorted(self._classes_with_free)

    def holder(self, group: GroupKey) -> int | None:
        """The template position that holds ``group``, if any."""
        return self._holder.get(group)

    def class_of(self, position: int) -> int:
        return self._class_of[position]

    def served(self, position: int) -> bool:
        return position in self._served

    def has_edge(self, class_index: int, group: GroupKey) -> bool:
        return group in self._adj[class_index]

    def classes_of(self, group: GroupKey) -> tuple[int, ...]:
        """The classes ``group`` has an edge to (empty for a group with none)."""
        return self._classes.get(group, ())

    def assignment(self) -> dict[int, GroupKey]:
        return dict(sorted(self._served.items()))

    # ----------------------------------------------------------------------------- editing
    def set_edges(self, group: GroupKey, classes: set[int]) -> tuple[set[int], set[int]]:
        """Make ``classes`` the neighbours of ``group``; return (freed classes, classes that gained it).

        A template row that held ``group`` through a removed edge is released.
        """
        adj = self._adj
        old: set[int] = set(self._classes.get(group, ()))
        if old == classes:
            return set(), set()
        freed: set[int] = set()
        holder = self._holder.get(group)
        if holder is not None and self._class_of[holder] not in classes:
            freed.add(self._class_of[holder])
            self.release(group)
        held = group in self._holder
        for class_index in old - classes:
            del adj[class_index][group]
            self._open[class_index].pop(group, None)
            self._degree_changed(class_index, old_degree=len(adj[class_index]) + 1)
        gained = classes - old
        for class_index in gained:
            adj[class_index][group] = None
            if not held:
                self._open[class_index][group] = None
            self._degree_changed(class_index, old_degree=len(adj[class_index]) - 1)
        if classes:
            shape = tuple(classes)
            self._classes[group] = self._shapes.setdefault(shape, shape)
        else:
            self._classes.pop(group, None)
        return freed, gained

    def assign(self, class_index: int, group: GroupKey) -> None:
        """Give ``group`` (free, adjacent) to a free template row of ``class_index``."""
        position = self._free[class_index].pop()
        self._free_count -= 1
        if not self._free[class_index]:
            self._classes_with_free.discard(class_index)
        self._take(position, group)

    def release(self, group: GroupKey) -> int:
        """Free the template row that holds ``group``; return its class."""
        position = self._untake(group)
        class_index = self._class_of[position]
        self._free[class_index].append(position)
        self._free_count += 1
        self._classes_with_free.add(class_index)
        return class_index

    def augment(self, start: int, dead: set[int] | None = None) -> bool:
        """Find an augmenting path from a free row of ``start`` and flip it; False when there is none.

        ``dead``: classes known to reach no free group, skipped; a failed search adds every class it
        visited (none of them reaches a free group either). Only valid while the matching is unchanged.
        """
        if not self._free[start]:
            return False
        adj = self._adj
        visited = dead if dead is not None else set()
        visited.add(start)
        stack: list[Iterator[GroupKey]] = []
        entered_by: list[GroupKey] = []
        class_index = start
        while True:
            open_groups = self._open[class_index]
            if open_groups:
                self._flip(start, entered_by, next(iter(open_groups)))
                return True
            stack.append(iter(adj[class_index]))
            # Every neighbour of the class is held: look for a holder that can move elsewhere.
            while stack:
                descended = False
                for group in stack[-1]:
                    holder_class = self._class_of[self._holder[group]]
                    if holder_class in visited or holder_class in self._blocked:
                        continue
                    visited.add(holder_class)
                    entered_by.append(group)
                    class_index = holder_class
                    descended = True
                    break
                if descended:
                    break
                stack.pop()
                if entered_by:
                    entered_by.pop()
            if not stack:
                return False

    # ----------------------------------------------------------------------------- internals
    def _degree_changed(self, class_index: int, old_degree: int) -> None:
        capacity = self._capacity[class_index]
        self._short += (len(self._adj[class_index]) < capacity) - (old_degree < capacity)

    def _flip(self, start: int, entered_by: list[GroupKey], free_group: GroupKey) -> None:
        target = free_group
        for group in reversed(entered_by):
            position = self._untake(group)
            self._take(position, target)
            target = group
        self.assign(start, target)

    def _take(self, position: int, group: GroupKey) -> None:
        self._holder[group] = position
        self._served[position] = group
        for class_index in self._classes[group]:
            self._open[class_index].pop(group, None)

    def _untake(self, group: GroupKey) -> int:
        position = self._holder.pop(group)
        del self._served[position]
        for class_index in self._classes[group]:
            self._open[class_index][group] = None
        return position
