"""A candidate row: an id and its values. Rows are never edited in place."""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.model.values import Value, Values, values_to_dict


@dataclass(frozen=True)
class Row:
    row_id: str
    values: Values

    def as_dict(self) -> dict[str, Value]:
        return values_to_dict(self.values)
