"""A growable Fenwick (binary indexed) tree of counts: add at an index, count below an index."""

from __future__ import annotations


class Fenwick:
    def __init__(self, size: int = 64) -> None:
        self._tree = [0] * (size + 1)
        self._counts = [0] * size

    def add(self, index: int, delta: int) -> None:
        while index >= len(self._counts):
            self._grow()
        self._counts[index] += delta
        tree = self._tree
        position = index + 1
        while position < len(tree):
            tree[position] += delta
            position += position & -position

    def below(self, index: int) -> int:
        """The sum of the counts at indexes smaller than ``index``."""
        tree = self._tree
        position = min(index, len(tree) - 1)
        total = 0
        while position > 0:
            total += tree[position]
            position -= position & -position
        return total

    def _grow(self) -> None:
        counts = self._counts + [0] * len(self._counts)
        tree = [0] * (len(counts) + 1)
        for index, count in enumerate(counts):
            position = index + 1
            tree[position] += count
            parent = position + (position & -position)
            if parent < len(tree):
                tree[parent] += tree[position]
        self._counts = counts
        self._tree = tree
