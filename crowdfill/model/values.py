"""Row values: a partial map column -> value, held as a frozenset of items so subsets are cheap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Value = str | int | float | bool
Item = tuple[str, Value]
Values = frozenset[Item]

EMPTY: Values = frozenset()


def values_from_mapping(mapping: Mapping[str, Value]) -> Values:
    return frozenset(mapping.items())


def values_to_dict(values: Iterable[Item]) -> dict[str, Value]:
    return dict(sorted(values, key=item_order))


def columns_of(values: Values) -> frozenset[str]:
    return frozenset(column for column, _ in values)


def sort_key(values: Values) -> tuple[tuple[str, str, str], ...]:
    """A total order over row values that does not depend on Python's mixed-type comparisons."""
    return tuple(
        (column, type(value).__name__, repr(value)) for column, value in sorted(values, key=item_order)
    )


def item_order(item: Item) -> tuple[str, str]:
    """A total order over items (column first) that never compares values of different types."""
    return item[0], repr(item[1])
