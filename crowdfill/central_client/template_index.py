"""Template rows grouped into classes of identical values, indexed so a row finds its classes fast.

Template rows with identical values are interchangeable (any of them may take any group the others
could), so the matching works on classes with a capacity: "1000 empty rows" is one class with 1000
positions and one edge per group, not 1000 edges per group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from crowdfill.model import GroupKey, Schema, Template, Values
from crowdfill.model.values import Item

# Enumerating the subsets of a row costs 2**len(row) dictionary lookups; walking the item postings
# costs their total length. Pick whichever is smaller, but never enumerate wide rows.
_MAX_ENUMERATED_ITEMS = 12


@dataclass(frozen=True)
class TemplateClass:
    """Template rows that share the same values; ``key_group`` is set when they fix a complete key."""

    index: int
    values: Values
    positions: tuple[int, ...]
    key_group: GroupKey | None


class TemplateIndex:
    def __init__(self, schema: Schema, template: Template) -> None:
        by_values: dict[Values, list[int]] = {}
        for position, values in enumerate(template.rows):
            by_values.setdefault(values, []).append(position)
        self.classes: tuple[TemplateClass, ...] = tuple(
            TemplateClass(index, values, tuple(positions), _key_group(schema, values))
            for index, (values, positions) in enumerate(by_values.items())
        )
        self._by_values: dict[Values, int] = {c.values: c.index for c in self.classes}
        self._by_item: dict[Item, list[int]] = {}
        for template_class in self.classes:
            for item in template_class.values:
                self._by_item.setdefault(item, []).append(template_class.index)
        self._by_key_group: dict[GroupKey, int] = {
            c.key_group: c.index for c in self.classes if c.key_group is not None
        }

    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self) -> Iterator[TemplateClass]:
        return iter(self.classes)

    def key_fixing(self, class_index: int) -> bool:
        return self.classes[class_index].key_group is not None

    def class_fixing(self, group: GroupKey) -> int | None:
        """The class whose rows fix the key of ``group`` (at most one: Template.define refuses two)."""
        return self._by_key_group.get(group)

    def classes_within(self, values: Values) -> set[int]:
        """Classes whose values are a subset of ``values`` (the template rows a row can serve)."""
        postings = [self._by_item.get(item, []) for item in values]
        walk_cost = sum(len(p) for p in postings)
        if len(values) <= _MAX_ENUMERATED_ITEMS and (1 << len(values)) <= walk_cost:
            return self._by_enumeration(values)
        found: set[int] = set()
        hits: dict[int, int] = {}
        for posting in postings:
            for class_index in posting:
                hits[class_index] = hits.get(class_index, 0) + 1
        found.update(c for c, count in hits.items() if count == len(self.classes[c].values))
        empty = self._by_values.get(frozenset())
        if empty is not None:
            found.add(empty)
        return found

    def _by_enumeration(self, values: Values) -> set[int]:
        found: set[int] = set()
        items = tuple(values)
        for size in range(len(items) + 1):
            for subset in combinations(items, size):
                class_index = self._by_values.get(frozenset(subset))
                if class_index is not None:
                    found.add(class_index)
        return found


def _key_group(schema: Schema, values: Values) -> GroupKey | None:
    key = schema.key_of(values)
    return ("key", key) if key is not None else None
