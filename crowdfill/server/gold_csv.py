"""Gold rows from CSV (the schema's columns plus ``verdict``) and the gold answers as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from crowdfill.server.gold import GoldError
from crowdfill.wire.definition import GoldRowModel

MAX_CSV_BYTES = 2_000_000
_TRUE = ("true", "yes", "1", "y", "t")
_FALSE = ("false", "no", "0", "n", "f")


def parse_gold_csv(text: str, columns: Sequence[str]) -> list[GoldRowModel]:
    """One gold row per CSV line; GoldError naming the line and the problem."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or not [cell for cell in header if cell.strip()]:
        raise GoldError(f"the CSV is empty; its first line names the columns {[*columns, 'verdict']}")
    names = [cell.strip() for cell in header]
    unknown = [name for name in names if name not in (*columns, "verdict")]
    if unknown:
        raise GoldError(
            f"the CSV header names unknown column(s) {unknown}; columns are {[*columns, 'verdict']}"
        )
    missing = [name for name in (*columns, "verdict") if name not in names]
    if missing:
        raise GoldError(f"the CSV header lacks column(s) {missing}; it needs {[*columns, 'verdict']}")
    if len(set(names)) != len(names):
        raise GoldError(f"the CSV header names a column twice: {names}")
    rows = []
    for line, cells in enumerate(reader, 2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
        if len(cells) != len(names):
            raise GoldError(f"CSV line {line} has {len(cells)} cells; the header has {len(names)}")
        record = dict(zip(names, cells, strict=True))
        verdict = record.pop("verdict").strip().lower()
        if verdict not in (*_TRUE, *_FALSE):
            raise GoldError(f"CSV line {line}: verdict must be true or false, got {verdict!r}")
        # An empty cell is a missing value: the gold row is then incomplete, which build_gold names.
        values = {name: cell for name, cell in record.items() if cell.strip() != ""}
        missing_cells = [name for name in columns if name not in values]
        if missing_cells:
            raise GoldError(f"CSV line {line} is incomplete: no value for {missing_cells}")
        rows.append(GoldRowModel(values=values, verdict=verdict in _TRUE))  # type: ignore[arg-type]  # str is a Scalar
    return rows


def answers_csv(entries: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """One line per (gold row, voter); a gold row nobody voted on has one line without a worker."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(["gold_id", *columns, "verdict", "use", "worker_id", "answer", "right"])
    for entry in entries:
        base = [
            entry["id"],
            *(_cell(entry["values"].get(c)) for c in columns),
            _cell(entry["verdict"]),
            entry["use"],
        ]
        for vote in entry["votes"] or [None]:
            if vote is None:
                yield line([*base, "", "", ""])
            else:
                yield line([*base, vote["worker_id"], vote["answer"], _cell(vote["right"])])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
