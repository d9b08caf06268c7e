"""Quality of a result table against the truth: precision, recall against the template, cell accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crowdfill.model import Template, Values
from crowdfill.simulation.truth import Truth


@dataclass(frozen=True)
class Quality:
    """``precision``: share of result rows that are exactly a truth row. ``recall``: share of template
    rows served by a distinct correct result row. ``cell_accuracy``: share of result cells equal to the
    truth row of the same key (every cell of a row with a key the truth lacks counts as wrong)."""

    rows: int
    correct_rows: int
    precision: float | None
    recall: float
    cell_accuracy: float | None


def measure(rows: Sequence[Values], truth: Truth, template: Template) -> Quality:
    correct = [values for values in rows if truth.contains(values)]
    cells = sum(len(values) for values in rows)
    right_cells = 0
    for values in rows:
        truth_row = truth.row_for_key(truth.schema.key_of(values))
        if truth_row is not None:
            right_cells += len(values & truth_row)
    served = matched_count(template.rows, correct)
    return Quality(
        rows=len(rows),
        correct_rows=len(correct),
        precision=len(correct) / len(rows) if rows else None,
        recall=served / len(template) if len(template) else 1.0,
        cell_accuracy=right_cells / cells if cells else None,
    )


def matched_count(wanted: Sequence[Values], rows: Sequence[Values]) -> int:
    """Size of a maximum matching of ``wanted`` rows to distinct ``rows`` that contain them."""
    holder: dict[int, int] = {}

    def augment(position: int, seen: set[int]) -> bool:
        for index, values in enumerate(rows):
            if index in seen or not wanted[position] <= values:
                continue
            seen.add(index)
            if index not in holder or augment(holder[index], seen):
                holder[index] = position
                return True
        return False

    return sum(1 for position in range(len(wanted)) if augment(position, set()))
