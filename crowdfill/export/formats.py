"""Writers and readers for CSV, JSONL, Parquet and Hugging Face ``datasets`` on disk.

Each writer takes plain rows and fields, writes to a temporary path beside the target and renames
it into place, so a reader (or a crash, or Ctrl-C) never sees a half-written export. ``on_rows``
is called with the number of rows just written, for progress bars.

``datasets`` and ``pyarrow`` are imported inside the functions that use them: importing them costs
about a second, and every ``crowdfill`` command (``serve`` included) imports this package.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from crowdfill.export.fields import Cell, ExportError, Field, Record, coerce, normalise_rows

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

Format = Literal["csv", "jsonl", "parquet", "hf"]
FORMATS: tuple[str, ...] = get_args(Format)
Progress = Callable[[int], None]
CHUNK_ROWS = 10_000


def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    types: dict[str, pa.DataType] = {
        "text": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.string(),
        "list": pa.list_(pa.string()),
    }
    return types[kind]


def _noop(count: int) -> None:
    del count


# ---- CSV: missing cells are empty; booleans true/false; lists as JSON arrays ----


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _csv_value(text: str, field: Field) -> Cell:
    if text == "":
        return None
    try:
        if field.kind == "integer":
            return int(text)
        if field.kind == "number":
            return float(text)
        if field.kind == "boolean":
            if text not in ("true", "false"):
                raise ExportError(f"field {field.name!r}: {text!r} is not true or false")
            return text == "true"
        if field.kind == "list":
            return coerce(json.loads(text), field)
    except ValueError as error:
        raise ExportError(f"field {field.name!r}: cannot read {text!r}: {error}") from error
    return coerce(text, field)


@contextmanager
def _replacing(path: Path, directory: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    else:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(descriptor)
        temporary = Path(name)
    try:
        yield temporary
        if directory:
            _swap_directory(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)


def _swap_directory(new: Path, path: Path) -> None:
    if not path.exists():
        new.rename(path)
        return
    if not path.is_dir():
        raise ExportError(f"{path} exists and is not a directory")
    old = path.with_name(f".{path.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    path.rename(old)
    new.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def _chunks(rows: Iterable[Mapping[str, object]], fields: Sequence[Field]) -> Iterator[list[Record]]:
    """``rows`` normalised, ``CHUNK_ROWS`` at a time (only one chunk is held at once)."""
    iterator = iter(rows)
    done = 0
    while chunk := list(itertools.islice(iterator, CHUNK_ROWS)):
        try:
            yield normalise_rows(chunk, fields)
        except ExportError as error:
            raise ExportError(f"rows from {done}: {error}") from error
        done += len(chunk)


def write_csv(
    rows: Iterable[Mapping[str, object]], fields: Sequence[Field], path: Path, on_rows: Progress = _noop
) -> int:
    """Write ``rows`` as they come (a chunk at a time); returns how many."""
    written = 0
    with _replacing(path) as temporary, temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields])
        for chunk in _chunks(rows, fields):
            writer.writerows([_csv_cell(r[f.name]) for f in fields] for r in chunk)
            written += len(chunk)
            on_rows(len(chunk))
    return written


def read_csv(path: Path, fields: Sequence[Field]) -> list[Record]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != [f.name for f in fields]:
            raise ExportError(f"{path} has columns {header}, expected {[f.name for f in fields]}")
        return [
            {f.name: _csv_value(text, f) for f, text in zip(fields, line, strict=True)} for line in reader
        ]


# ---- JSONL: one JSON object per row, every field present, missing cells null ----


def write_jsonl(
    rows: Iterable[Mapping[str, object]], fields: Sequence[Field], path: Path, on_rows: Progress = _noop
) -> int:
    """Write ``rows`` as they come (a chunk at a time); returns how many."""
    written = 0
    with _replacing(path) as temporary, temporary.open("w", encoding="utf-8") as handle:
        for chunk in _chunks(rows, fields):
            handle.writelines(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in chunk)
            written += len(chunk)
            on_rows(len(chunk))
    return written


def read_jsonl(path: Path, fields: Sequence[Field]) -> list[Record]:
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as error:
                raise ExportError(f"{path} line {number} is not JSON: {error}") from error
    return normalise_rows(records, fields)


# ---- Arrow: Parquet and Hugging Face datasets share one typed table ----


def arrow_schema(fields: Sequence[Field]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(f.name, _arrow_type(f.kind), nullable=True) for f in fields])


def _arrow_batches(
    records: Sequence[Record], fields: Sequence[Field], schema: pa.Schema, on_rows: Progress
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    for start in range(0, len(records), CHUNK_ROWS):
        chunk = records[start : start + CHUNK_ROWS]
        arrays = [pa.array([r[f.name] for r in chunk], type=schema.field(f.name).type) for f in fields]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        on_rows(len(chunk))


def to_arrow(
    rows: Sequence[Mapping[str, object]], fields: Sequence[Field], on_rows: Progress = _noop
) -> pa.Table:
    import pyarrow as pa

    records = normalise_rows(rows, fields)
    schema = arrow_schema(fields)
    return pa.Table.from_batches(list(_arrow_batches(records, fields, schema, on_rows)), schema=schema)


def write_parquet(
    rows: Sequence[Mapping[str, object]], fields: Sequence[Field], path: Path, on_rows: Progress = _noop
) -> None:
    import pyarrow.parquet as pq

    records = normalise_rows(rows, fields)
    schema = arrow_schema(fields)
    with _replacing(path) as temporary, pq.ParquetWriter(str(temporary), schema) as writer:
        for batch in _arrow_batches(records, fields, schema, on_rows):
            writer.write_batch(batch)


def read_parquet(path: Path, fields: Sequence[Field]) -> list[Record]:
    import pyarrow.parquet as pq

    table = pq.read_table(str(path))
    if table.schema.names != [f.name for f in fields]:
        raise ExportError(f"{path} has columns {table.schema.names}, expected {[f.name for f in fields]}")
    return normalise_rows(table.to_pylist(), fields)


def to_dataset(
    rows: Sequence[Mapping[str, object]], fields: Sequence[Field], on_rows: Progress = _noop
) -> datasets.Dataset:
    """A Hugging Face dataset with the same typed columns as the Parquet export."""
    import datasets

    return datasets.Dataset(to_arrow(rows, fields, on_rows))


def write_hf(
    rows: Sequence[Mapping[str, object]], fields: Sequence[Field], path: Path, on_rows: Progress = _noop
) -> None:
    """``save_to_disk`` into the directory ``path`` (replaced as a whole)."""
    dataset = to_dataset(rows, fields, on_rows)
    with _replacing(path, directory=True) as temporary:
        # datasets saves an empty dataset as zero shards, which it then cannot load: ask for one.
        dataset.save_to_disk(str(temporary), num_shards=1 if len(dataset) == 0 else None)


def read_hf(path: Path, fields: Sequence[Field]) -> list[Record]:
    import datasets

    dataset = datasets.load_from_disk(str(path))
    if not isinstance(dataset, datasets.Dataset):
        raise ExportError(f"{path} holds a dataset dictionary, not one dataset")
    if list(dataset.column_names) != [f.name for f in fields]:
        raise ExportError(f"{path} has columns {dataset.column_names}, expected {[f.name for f in fields]}")
    return normalise_rows(dataset.to_list(), fields)


# The formats written as the rows come, holding one chunk at a time (Parquet and datasets build
# one typed table of every row first).
STREAMED: dict[str, Callable[[Iterable[Mapping[str, object]], Sequence[Field], Path, Progress], int]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
}
WRITERS: dict[str, Callable[[Sequence[Mapping[str, object]], Sequence[Field], Path, Progress], object]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "parquet": write_parquet,
    "hf": write_hf,
}
READERS: dict[str, Callable[[Path, Sequence[Field]], list[Record]]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "parquet": read_parquet,
    "hf": read_hf,
}


def write(
    fmt: str,
    rows: Sequence[Mapping[str, object]],
    fields: Sequence[Field],
    path: Path,
    on_rows: Progress = _noop,
) -> None:
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    WRITERS[fmt](rows, fields, path, on_rows)


def read(fmt: str, path: Path, fields: Sequence[Field]) -> list[Record]:
    if fmt not in READERS:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    return READERS[fmt](path, fields)


def write_streamed(
    fmt: str,
    rows: Iterable[Mapping[str, object]],
    fields: Sequence[Field],
    path: Path,
    on_rows: Progress = _noop,
) -> int:
    """Write ``rows`` in a format of ``STREAMED`` as they come; returns how many were written."""
    if fmt not in STREAMED:
        raise ExportError(f"format {fmt!r} is not written as a stream; streamed: {', '.join(STREAMED)}")
    return STREAMED[fmt](rows, fields, path, on_rows)
