"""Streamed CSV and JSONL bodies for the export endpoints.

Rows come in one at a time (from the store or from a finished table, see ``export_source``) and
go out in pieces of about ``PIECE_CHARS``: one ASGI message per row would cost more than the rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any

_CANDIDATE_EXTRA = ("up", "down", "score", "status")
PIECE_CHARS = 1 << 16


async def csv_lines(
    rows: AsyncIterable[dict[str, Any]], columns: Sequence[str], which: str
) -> AsyncIterator[str]:
    extra = _CANDIDATE_EXTRA if which == "candidates" else ()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_id", *columns, *extra])
    async for row in rows:
        values = row["values"]
        writer.writerow([row["row_id"], *(_cell(values.get(c)) for c in columns), *(row[e] for e in extra)])
        if buffer.tell() >= PIECE_CHARS:
            yield _take(buffer)
    if buffer.tell():
        yield _take(buffer)


async def jsonl_lines(rows: AsyncIterable[dict[str, Any]]) -> AsyncIterator[str]:
    pieces: list[str] = []
    size = 0
    async for row in rows:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        pieces.append(line)
        size += len(line)
        if size >= PIECE_CHARS:
            yield "".join(pieces)
            pieces, size = [], 0
    if pieces:
        yield "".join(pieces)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
