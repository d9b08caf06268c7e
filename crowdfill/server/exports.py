"""Streamed CSV and JSONL bodies for the export endpoints (one row serialised at a time)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

_CANDIDATE_EXTRA = ("up", "down", "score", "status")


def csv_lines(rows: Sequence[dict[str, Any]], columns: Sequence[str], which: str) -> Iterator[str]:
    extra = _CANDIDATE_EXTRA if which == "candidates" else ()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(["row_id", *columns, *extra])
    for row in rows:
        values = row["values"]
        yield line([row["row_id"], *(_cell(values.get(c)) for c in columns), *(row[e] for e in extra)])


def jsonl_lines(rows: Sequence[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
