from __future__ import annotations

import pytest

from crowdfill.export import ExportError, Field, export_fields, fields_for_schema, normalise_rows
from tests.export.support import PEOPLE


def test_fields_are_the_row_id_the_schema_columns_then_crowdfills_facts() -> None:
    fields = fields_for_schema(PEOPLE)
    assert [(f.name, f.kind) for f in fields.fields] == [
        ("row_id", "text"),
        ("name", "text"),
        ("born", "date"),
        ("caps", "integer"),
        ("height", "number"),
        ("active", "boolean"),
        ("up", "integer"),
        ("down", "integer"),
        ("score", "number"),
        ("status", "text"),
        ("contributors", "list"),
    ]
    assert fields.columns == ("name", "born", "caps", "height", "active")


def test_a_schema_column_named_like_a_fact_keeps_its_name_and_the_fact_is_prefixed() -> None:
    fields = export_fields([("status", "text"), ("score", "integer")])
    assert fields.names == (
        "row_id",
        "status",
        "score",
        "up",
        "down",
        "crowdfill_score",
        "crowdfill_status",
        "contributors",
    )
    assert fields.meta["status"] == "crowdfill_status"


def test_an_unknown_column_type_is_refused() -> None:
    with pytest.raises(ExportError, match="unknown type"):
        export_fields([("x", "blob")])


def test_rows_are_completed_with_nulls_and_coerced_to_their_kinds() -> None:
    fields = [Field("caps", "integer"), Field("height", "number"), Field("born", "date")]
    assert normalise_rows([{"caps": 3.0, "height": 2}], fields) == [{"caps": 3, "height": 2.0, "born": None}]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (Field("caps", "integer"), True),
        (Field("caps", "integer"), "3"),
        (Field("height", "number"), "1.8"),
        (Field("active", "boolean"), 1),
        (Field("born", "date"), "2020-13-01"),
        (Field("contributors", "list"), ["w1", 2]),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_with_the_field_named(field: Field, value: object) -> None:
    with pytest.raises(ExportError, match=field.name):
        normalise_rows([{field.name: value}], [field])


def test_a_row_with_a_field_that_is_not_exported_is_refused() -> None:
    with pytest.raises(ExportError, match="not exported"):
        normalise_rows([{"shoe": 44}], [Field("caps", "integer")])
