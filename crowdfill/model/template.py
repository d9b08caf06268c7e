"""The template: rows (complete, partial or empty) the final table must contain (DESIGN §2)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

from crowdfill.model.errors import CrowdFillError, UnsatisfiableTemplate
from crowdfill.model.schema import Schema
from crowdfill.model.values import Item, Value, Values

MAX_TEMPLATE_ROWS = 100_000


@dataclass(frozen=True)
class Template:
    rows: tuple[Values, ...]
    _by_item: dict[Item, frozenset[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[Item, set[int]] = {}
        for position, values in enumerate(self.rows):
            for item in values:
                index.setdefault(item, set()).add(position)
        object.__setattr__(self, "_by_item", {item: frozenset(s) for item, s in index.items()})

    @classmethod
    def define(cls, schema: Schema, rows: Sequence[Mapping[str, object]]) -> Template:
        """Validate requester-given template rows; refuse a template no final table could satisfy."""
        if len(rows) > MAX_TEMPLATE_ROWS:
            raise UnsatisfiableTemplate(f"a template has at most {MAX_TEMPLATE_ROWS} rows")
        normalised = []
        for position, raw in enumerate(rows):
            if not isinstance(raw, Mapping):
                raise UnsatisfiableTemplate(
                    f"template row {position + 1} must be an object of column -> value, got {raw!r}"
                )
            try:
                normalised.append(schema.normalise_values(raw))
            except CrowdFillError as error:
                raise UnsatisfiableTemplate(f"template row {position + 1}: {error.message}") from error
        _refuse_repeated_keys(schema, normalised)
        _refuse_too_few_keys(schema, normalised)
        return cls(tuple(normalised))

    def __len__(self) -> int:
        return len(self.rows)

    def protects(self, values: Values) -> bool:
        """Whether ``values`` is a subset of some template row (such values cannot be downvoted)."""
        if not values:
            return bool(self.rows)
        postings = [self._by_item.get(item) for item in values]
        if any(p is None for p in postings):
            return False
        common = frozenset.intersection(*(p for p in postings if p is not None))
        return bool(common)

    def key_fixed(self, schema: Schema, position: int) -> tuple[Value, ...] | None:
        """The complete key a template row fixes, if it fixes one."""
        return schema.key_of(self.rows[position])

    def matching(self, rows: Iterable[tuple[str, Values]]) -> dict[int, str] | None:
        """A matching of every template row to a distinct row ⊇ it, or None when there is none.

        Augmenting paths (Kuhn's algorithm) over candidate lists found through an item index, with
        an explicit stack: a template of many rows must not hit Python's recursion limit.
        """
        candidates = list(rows)
        by_item: dict[Item, list[int]] = {}
        for index, (_, values) in enumerate(candidates):
            for item in values:
                by_item.setdefault(item, []).append(index)
        everyone = range(len(candidates))
        adjacency: list[Sequence[int]] = []
        for wanted in self.rows:
            if not wanted:
                adjacency.append(everyone)
                continue
            postings = [by_item.get(item, []) for item in wanted]
            adjacency.append([i for i in min(postings, key=len) if wanted <= candidates[i][1]])
        holder_of: dict[int, int] = {}  # candidate index -> template position
        for start in range(len(self.rows)):
            if not _augment(start, adjacency, holder_of):
                return None
        return {position: candidates[index][0] for index, position in sorted(holder_of.items())}


def _augment(start: int, adjacency: list[Sequence[int]], holder_of: dict[int, int]) -> bool:
    """Find an augmenting path from template position ``start`` and flip it; False if there is none."""
    seen: set[int] = set()
    positions = [start]
    edges: list[Iterator[int]] = [iter(adjacency[start])]
    chosen: list[int] = []  # chosen[k]: the candidate position ``positions[k]`` would take
    while positions:
        candidate = next((c for c in edges[-1] if c not in seen), None)
        if candidate is None:
            positions.pop()
            edges.pop()
            if chosen:
                chosen.pop()
            continue
        seen.add(candidate)
        chosen.append(candidate)
        holder = holder_of.get(candidate)
        if holder is None:
            for position, taken in zip(positions, chosen, strict=True):
                holder_of[taken] = position
            return True
        positions.append(holder)
        edges.append(iter(adjacency[holder]))
    return False


def _refuse_repeated_keys(schema: Schema, rows: list[Values]) -> None:
    seen: dict[tuple[Value, ...], int] = {}
    for position, values in enumerate(rows):
        key = schema.key_of(values)
        if key is None:
            continue
        if key in seen:
            raise UnsatisfiableTemplate(
                f"template rows {seen[key] + 1} and {position + 1} fix the same key {list(key)}; "
                "the final table keeps one row per key, so both cannot be satisfied"
            )
        seen[key] = position


def _refuse_too_few_keys(schema: Schema, rows: list[Values]) -> None:
    """Refuse a template that needs more distinct keys than the key columns' domains allow.

    Each template row needs a final row of its own, hence a key of its own. A row whose key has a
    free column without a domain has endless keys and never stands in the way; the others must be
    matched to distinct keys from their finite key spaces (Hall's condition, checked by matching).
    """
    key_columns = [schema.column(name) for name in schema.key]
    bounded: list[tuple[Values, list[tuple[Value, ...]]]] = []
    for values in rows:
        present = dict(values)
        spaces = [(present[c.name],) if c.name in present else c.domain for c in key_columns]
        finite = [space for space in spaces if space is not None]
        if len(finite) == len(spaces):
            bounded.append((values, finite))
    # A row with at least len(bounded) keys to pick from is matched last whatever the others took.
    tight = [(values, finite) for values, finite in bounded if math.prod(map(len, finite)) < len(bounded)]
    if len(tight) < 2:
        return
    wanted = tuple(frozenset(item for item in values if item[0] in schema.key) for values, _ in tight)
    candidates: dict[Values, None] = {}
    for _, finite in tight:
        for combination in product(*finite):
            candidates[frozenset(zip(schema.key, combination, strict=True))] = None
    keys = [(str(i), key) for i, key in enumerate(candidates)]
    if Template(wanted).matching(keys) is None:
        raise UnsatisfiableTemplate(
            f"the template needs {len(tight)} rows whose keys can only take values from the key "
            f"columns' domains, and those domains do not hold that many distinct keys for them; "
            "the final table keeps one row per key, so the template could never be satisfied"
        )
