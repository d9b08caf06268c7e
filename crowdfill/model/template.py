"""The template: rows (complete, partial or empty) the final table must contain (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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
            try:
                normalised.append(schema.normalise_values(raw))
            except CrowdFillError as error:
                raise UnsatisfiableTemplate(f"template row {position + 1}: {error.message}") from error
        _refuse_repeated_keys(schema, normalised)
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
        """A matching of every template row to a distinct row ⊇ it, or None when there is none."""
        candidates = list(rows)
        match_of_row: dict[str, int] = {}

        def augment(position: int, seen: set[str]) -> bool:
            wanted = self.rows[position]
            for row_id, values in candidates:
                if row_id in seen or not wanted <= values:
                    continue
                seen.add(row_id)
                holder = match_of_row.get(row_id)
                if holder is None or augment(holder, seen):
                    match_of_row[row_id] = position
                    return True
            return False

        for position in range(len(self.rows)):
            if not augment(position, set()):
                return None
        return {position: row_id for row_id, position in match_of_row.items()}


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
