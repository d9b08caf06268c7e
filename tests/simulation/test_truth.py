"""Ground truth: CSV with a given or inferred schema, the generated table, and template specs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from crowdfill.model import Column, Schema
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.simulation.truth import (
    Truth,
    TruthError,
    build_template,
    generate_soccer_truth,
    load_schema,
    load_truth_csv,
)

CAPITALS_CSV = "country,capital,population,founded,coastal\nFrance,Paris,68.2,0843-08-10,true\n"
CAPITALS_CSV += "Spain,Madrid,48.6,1479-01-20,true\nAustria,Vienna,9.1,0976-01-01,false\n"


def _csv(tmp_path: Path, text: str = CAPITALS_CSV) -> Path:
    path = tmp_path / "truth.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_without_a_schema_gets_column_types_inferred_and_the_first_column_as_key(
    tmp_path: Path,
) -> None:
    truth = load_truth_csv(_csv(tmp_path))
    types = {column.name: column.type for column in truth.schema.columns}
    assert types == {
        "country": "text",
        "capital": "text",
        "population": "number",
        "founded": "date",
        "coastal": "boolean",
    }
    assert truth.schema.key == ("country",)
    assert len(truth) == 3
    assert truth.contains(
        frozenset(
            {
                ("country", "Spain"),
                ("capital", "Madrid"),
                ("population", 48.6),
                ("founded", "1479-01-20"),
                ("coastal", True),
            }
        )
    )


def test_a_csv_with_a_schema_file_uses_that_schema_and_key(tmp_path: Path) -> None:
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(
        json.dumps({"columns": [{"name": "country"}, {"name": "capital"}], "key": ["capital"]}),
        encoding="utf-8",
    )
    truth = load_truth_csv(
        _csv(tmp_path, "country,capital\nFrance,Paris\nSpain,Madrid\n"), load_schema(schema_path)
    )
    assert truth.schema.key == ("capital",)


def test_a_csv_that_repeats_a_key_is_refused_with_the_row(tmp_path: Path) -> None:
    with pytest.raises(TruthError, match="repeats the key"):
        load_truth_csv(_csv(tmp_path, "country,capital\nFrance,Paris\nFrance,Lyon\n"))


def test_a_csv_cell_of_the_wrong_type_is_refused_with_its_line(tmp_path: Path) -> None:
    schema = Schema((Column("country"), Column("area", "integer")))
    with pytest.raises(TruthError, match="line 3"):
        load_truth_csv(_csv(tmp_path, "country,area\nFrance,551695\nSpain,big\n"), schema)


def test_a_csv_whose_columns_differ_from_the_schema_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TruthError, match="do not match"):
        load_truth_csv(_csv(tmp_path, "country,capital\nFrance,Paris\n"), SOCCER_PLAYER)


def test_the_generated_truth_is_a_soccer_player_table_fixed_by_its_seed() -> None:
    first = generate_soccer_truth(40, random.Random(3))
    assert first == generate_soccer_truth(40, random.Random(3))
    assert first.schema == SOCCER_PLAYER
    assert len(first) == 40
    assert first != generate_soccer_truth(40, random.Random(4))


def test_a_keys_template_fixes_the_keys_of_that_many_truth_rows() -> None:
    truth = generate_soccer_truth(30, random.Random(1))
    template = build_template("keys:5", truth, random.Random(2))
    assert len(template) == 5
    assert len(truth.restricted_to(template)) == 5
    assert all(truth.schema.key_of(row) is not None for row in template.rows)


def test_empty_and_paper_templates_and_template_files_are_accepted(tmp_path: Path) -> None:
    truth = generate_soccer_truth(30, random.Random(1))
    assert build_template("empty:4", truth, random.Random(0)).rows == (frozenset(),) * 4
    assert len(build_template("paper", truth, random.Random(0))) == 3
    path = tmp_path / "template.json"
    path.write_text(json.dumps([{"nationality": "Brazil"}, {}]), encoding="utf-8")
    assert len(build_template(str(path), truth, random.Random(0))) == 2


def test_a_template_the_truth_cannot_satisfy_is_refused() -> None:
    truth = Truth(SOCCER_PLAYER, generate_soccer_truth(3, random.Random(1)).rows)
    with pytest.raises(TruthError, match="cannot satisfy"):
        build_template("empty:4", truth, random.Random(0))
    with pytest.raises(TruthError, match="neither"):
        build_template("lots", truth, random.Random(0))
