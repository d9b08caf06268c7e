"""Schema: column types, domains, the key, and value normalisation."""

from __future__ import annotations

import pytest

from crowdfill.model import (
    Column,
    InvalidSchema,
    OutsideDomain,
    Schema,
    UnknownColumn,
    Value,
    WrongType,
)
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.model.schema import MAX_COLUMNS, MAX_TEXT_LENGTH, make_schema

ACCEPTED: list[tuple[str, object, Value]] = [
    ("text", "  Messi ", "Messi"),
    ("text", "Ronaldinho Gaúcho", "Ronaldinho Gaúcho"),
    ("integer", 7, 7),
    ("integer", "  -12 ", -12),
    ("integer", "+3", 3),
    ("integer", 4.0, 4),
    ("integer", 1629.0, 1629),
    ("integer", "1629.0", 1629),
    ("integer", 2**53 - 1, 2**53 - 1),
    ("integer", "-9007199254740991", -(2**53 - 1)),
    ("number", 2, 2.0),
    ("number", " 2.5 ", 2.5),
    ("number", "1e3", 1000.0),
    ("number", -0.0, 0.0),
    ("boolean", True, True),
    ("boolean", " Yes ", True),
    ("boolean", "0", False),
    ("boolean", "false", False),
    ("date", "2014-06-22", "2014-06-22"),
]

REFUSED: list[tuple[str, object]] = [
    ("text", ""),
    ("text", "   "),
    ("text", 5),
    ("text", "x" * (MAX_TEXT_LENGTH + 1)),
    ("integer", True),
    ("integer", 4.5),
    ("integer", "four"),
    ("integer", float("inf")),
    ("integer", float("nan")),
    ("integer", "1629.5"),
    ("integer", "1e3"),
    ("integer", "٣"),  # a non-ASCII digit
    ("number", "nan"),
    ("number", float("inf")),
    ("number", 10**400),
    ("number", False),
    ("number", None),
    ("boolean", "maybe"),
    ("boolean", 1),
    ("date", "2014-02-30"),
    ("date", "22/06/2014"),
    ("date", 20140622),
]


@pytest.mark.parametrize(("kind", "raw", "expected"), ACCEPTED)
def test_values_are_normalised_to_their_columns_canonical_form(
    kind: str, raw: object, expected: Value
) -> None:
    value = Column("c", kind).normalise(raw)  # type: ignore[arg-type]  # kinds come from the table above
    assert value == expected
    assert type(value) is type(expected)
    assert repr(value) == repr(expected)


@pytest.mark.parametrize(("kind", "raw"), REFUSED)
def test_a_value_of_the_wrong_type_is_refused_with_an_error_naming_the_column(kind: str, raw: object) -> None:
    with pytest.raises(WrongType, match="column 'c'"):
        Column("c", kind).normalise(raw)  # type: ignore[arg-type]  # kinds come from the table above


def test_a_value_outside_the_domain_is_refused_and_the_error_lists_the_allowed_values() -> None:
    column = SOCCER_PLAYER.column("position")
    assert column.normalise(" FW ") == "FW"
    with pytest.raises(OutsideDomain, match="'GK', 'DF', 'MF', 'FW'"):
        column.normalise("striker")


def test_a_domain_is_normalised_to_its_columns_type() -> None:
    schema = Schema((Column("rating", "number", (1, 2, 3)),))
    assert schema.column("rating").domain == (1.0, 2.0, 3.0)
    assert schema.normalise_values({"rating": "2"}) == frozenset({("rating", 2.0)})


@pytest.mark.parametrize(
    ("columns", "key", "message"),
    [
        ((), (), "at least one column"),
        ((Column("a"), Column("a")), (), "distinct"),
        ((Column(""),), (), "non-empty"),
        ((Column("a", "colour"),), (), "unknown type"),  # type: ignore[arg-type]  # a bad definition
        ((Column("a", "text", ()),), (), "empty domain"),
        ((Column("a", "integer", ("one",)),), (), "domain of column 'a'"),
        ((Column("a", "integer", (1, "1")),), (), "repeats"),
        ((Column("a"),), ("b",), "unknown columns"),
        ((Column("a"), Column("b")), ("a", "a"), "repeats a column"),
        (tuple(Column(f"c{n}") for n in range(MAX_COLUMNS + 1)), (), "at most"),
    ],
)
def test_an_unusable_schema_is_refused_with_a_reason(
    columns: tuple[Column, ...], key: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InvalidSchema, match=message):
        Schema(columns, key)


def test_the_key_defaults_to_every_column() -> None:
    schema = make_schema([Column("a"), Column("b", "integer")])
    assert schema.key == ("a", "b")
    assert schema.names == ("a", "b")


def test_key_of_is_the_key_tuple_only_when_every_key_column_is_filled() -> None:
    full = SOCCER_PLAYER.normalise_values({"nationality": "Brazil", "name": "Kaká", "caps": 92})
    assert SOCCER_PLAYER.key_of(full) == ("Kaká", "Brazil")
    assert SOCCER_PLAYER.key_of(frozenset({("name", "Kaká")})) is None
    assert not SOCCER_PLAYER.is_complete(full)
    assert SOCCER_PLAYER.ordered(full) == {"name": "Kaká", "nationality": "Brazil", "caps": 92}
    assert list(SOCCER_PLAYER.ordered(full)) == ["name", "nationality", "caps"]


def test_a_mapping_with_an_unknown_column_is_refused() -> None:
    with pytest.raises(UnknownColumn, match="'club'"):
        SOCCER_PLAYER.normalise_values({"club": "Barcelona"})
