"""Export bodies: pieces of about 64 KB that join to exactly the one-line-per-row CSV and JSONL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.server import exports

COLUMNS = ("name", "count", "flag")
cells = st.one_of(st.none(), st.text(max_size=30), st.integers(-(10**6), 10**6), st.booleans())
rows = st.lists(
    st.fixed_dictionaries(
        {
            "row_id": st.text(min_size=1, max_size=12),
            "values": st.dictionaries(st.sampled_from(COLUMNS), cells, max_size=3),
            "up": st.integers(0, 9),
            "down": st.integers(0, 9),
            "score": st.integers(-9, 9),
            "status": st.sampled_from(["probable", "unsure", "improbable"]),
        }
    ),
    max_size=40,
)


def one_line_per_row_csv(table: Sequence[dict[str, Any]], which: str) -> str:
    """The CSV the export wrote before it was cut into pieces: the csv module, row by row."""
    extra = ("up", "down", "score", "status") if which == "candidates" else ()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row_id", *COLUMNS, *extra])
    for row in table:
        cells = [_shown(row["values"].get(c)) for c in COLUMNS]
        writer.writerow([row["row_id"], *cells, *(row[e] for e in extra)])
    return out.getvalue()


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def _rows(table: Sequence[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in table:
        yield row


async def _joined(pieces: AsyncIterator[str]) -> list[str]:
    return [piece async for piece in pieces]


@settings(max_examples=60, deadline=None)
@given(rows, st.sampled_from(["final", "candidates"]), st.integers(1, 200))
def test_the_csv_pieces_join_to_the_row_by_row_csv(
    table: list[dict[str, Any]], which: str, piece_chars: int
) -> None:
    original = exports.PIECE_CHARS
    exports.PIECE_CHARS = piece_chars  # small pieces, so rows are cut across many of them
    try:
        pieces = asyncio.run(_joined(exports.csv_lines(_rows(table), COLUMNS, which)))
    finally:
        exports.PIECE_CHARS = original
    assert "".join(pieces) == one_line_per_row_csv(table, which)
    assert all(pieces)  # no empty pieces


@settings(max_examples=60, deadline=None)
@given(rows)
def test_the_jsonl_pieces_join_to_one_object_per_line(table: list[dict[str, Any]]) -> None:
    pieces = asyncio.run(_joined(exports.jsonl_lines(_rows(table))))
    lines = "".join(pieces).split("\n")  # not splitlines: it also cuts at U+0085 and U+2028
    assert lines[-1] == ""
    assert [json.loads(line) for line in lines[:-1]] == table
    assert all(pieces)


def test_a_large_export_goes_out_in_pieces_of_about_64_kb() -> None:
    table = [{"row_id": f"r{n}", "values": {"name": "x" * 100}} for n in range(2000)]
    pieces = asyncio.run(_joined(exports.csv_lines(_rows(table), COLUMNS, "final")))
    assert len(pieces) > 1
    assert all(len(piece) < exports.PIECE_CHARS + 200 for piece in pieces)
