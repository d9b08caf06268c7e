"""What is exported reads back equal, in every format: types, nulls, odd text and lists included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdfill.export import FORMATS, fields_for_schema, read, write
from crowdfill.export.formats import read_parquet, to_arrow
from tests.export.support import PEOPLE

FIELDS = fields_for_schema(PEOPLE).fields
ROWS: list[dict[str, Any]] = [
    {
        "row_id": "r7",
        "name": "Messi",
        "born": "1987-06-24",
        "caps": 83,
        "height": 1.7,
        "active": True,
        "up": 3,
        "down": 0,
        "score": 3.0,
        "status": "green",
        "contributors": ["mturk:A1", "prolific:5f3a"],
    },
    {
        "row_id": "r9",
        "name": 'Zé "the wall", Jr.\nsecond line',
        "born": None,
        "caps": 0,
        "height": None,
        "active": False,
        "up": 0,
        "down": 2,
        "score": -2.0,
        "status": "red",
        "contributors": [],
    },
    {
        "row_id": "r10",
        "name": "Ωmega 東京",
        "born": "2001-01-01",
        "caps": -4_000_000_000_000,
        "height": 1e-7,
        "active": None,
        "up": 1,
        "down": 1,
        "score": 0.0,
        "status": "yellow",
        "contributors": None,
    },
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_reads_back_equal(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"people.{fmt}"
    write(fmt, ROWS, FIELDS, path)
    assert read(fmt, path, FIELDS) == ROWS


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_table_exports_and_reads_back_empty(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"empty.{fmt}"
    write(fmt, [], FIELDS, path)
    assert read(fmt, path, FIELDS) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_exporting_again_replaces_the_previous_export_whole(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"people.{fmt}"
    write(fmt, ROWS, FIELDS, path)
    write(fmt, ROWS[:1], FIELDS, path)
    assert read(fmt, path, FIELDS) == ROWS[:1]
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary files are left behind"


def test_parquet_columns_carry_their_types() -> None:
    schema = to_arrow(ROWS, FIELDS).schema
    assert {name: str(schema.field(name).type) for name in schema.names} == {
        "row_id": "string",
        "name": "string",
        "born": "string",
        "caps": "int64",
        "height": "double",
        "active": "bool",
        "up": "int64",
        "down": "int64",
        "score": "double",
        "status": "string",
        "contributors": "list<item: string>",
    }


def test_the_progress_callback_counts_every_row(tmp_path: Path) -> None:
    counted: list[int] = []
    write("parquet", ROWS * 5, FIELDS, tmp_path / "p.parquet", counted.append)
    assert sum(counted) == 15
    assert len(read_parquet(tmp_path / "p.parquet", FIELDS)) == 15


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


ROW = st.fixed_dictionaries(
    {
        "row_id": st.text(min_size=1, max_size=8),
        "name": _maybe(st.text(min_size=1, max_size=30)),
        "born": _maybe(st.dates().map(lambda d: d.isoformat())),
        "caps": _maybe(st.integers(min_value=-(2**63), max_value=2**63 - 1)),
        "height": _maybe(st.floats(allow_nan=False, allow_infinity=False)),
        "active": _maybe(st.booleans()),
        "up": st.integers(0, 1000),
        "down": st.integers(0, 1000),
        "score": st.floats(-1000, 1000),
        "status": st.sampled_from(["red", "yellow", "blue", "green"]),
        "contributors": _maybe(st.lists(st.text(min_size=1, max_size=10), max_size=3)),
    }
)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=6))
def test_any_rows_read_back_equal(fmt: str, rows: list[dict[str, Any]], tmp_path: Path) -> None:
    path = tmp_path / f"any.{fmt}"
    write(fmt, rows, FIELDS, path)
    assert read(fmt, path, FIELDS) == rows
