"""Rows that fooled the model: final rows whose value the crowd confirmed and the model got wrong.

That is the yield of dynamic adversarial data collection: a worker wrote the row so that the
model would predict another value, and the crowd's votes made it final (a positive score).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from crowdfill.model import CandidateTable, Value


@dataclass(frozen=True)
class FooledRow:
    row_id: str
    author: str | None  # the worker whose fill made the row; None if not known
    column: str
    value: Value  # the crowd's value
    predicted: Value  # the model's
    confidence: float


def fooled_rows(table: CandidateTable, authors: Mapping[str, str]) -> list[FooledRow]:
    """The final rows whose predicted column holds another value than the model's prediction."""
    found: list[FooledRow] = []
    for row in table.final_table():
        values = dict(row.values)
        for column, value in values.items():
            prediction = table.annotation(row.values, "prediction", column)
            if prediction is not None and prediction.value != value:
                found.append(
                    FooledRow(
                        row.row_id,
                        authors.get(row.row_id),
                        column,
                        value,
                        prediction.value,
                        prediction.confidence,
                    )
                )
    return found


def fooled_by_worker(rows: list[FooledRow]) -> dict[str, int]:
    counts = Counter(row.author for row in rows if row.author is not None)
    return dict(sorted(counts.items()))
