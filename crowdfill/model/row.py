"""A candidate row: an id and its values. Rows are never edited in place."""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.model.values import Value, Values, values_to_dict


@dataclass(frozen=True, slots=True)
class Row:
    # Slots: a big table holds one Row per row ever added, and an instance __dict__ (which pickle
    # would give every restored Row) is most of its size (docs/scale.md, "Memory").
    row_id: str
    values: Values

    def as_dict(self) -> dict[str, Value]:
        return values_to_dict(self.values)

    def __reduce__(self) -> tuple[type[Row], tuple[str, Values]]:
        # Rebuilt through __init__: restoring a slotted frozen dataclass field by field is slower.
        return Row, (self.row_id, self.values)
