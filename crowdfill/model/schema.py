"""Schema: typed columns with optional domains and a primary key; values are normalised here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from crowdfill.model.errors import InvalidSchema, OutsideDomain, UnknownColumn, WrongType
from crowdfill.model.values import Value, Values

ColumnType = Literal["text", "integer", "number", "boolean", "date"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
MAX_TEXT_LENGTH = 1000
MAX_COLUMNS = 64
MAX_INTEGER_DIGITS = 18
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    domain: tuple[Value, ...] | None = None

    def normalise(self, raw: object) -> Value:
        """Return ``raw`` as this column's canonical value, or raise a typed error naming the column."""
        value = _convert(self, raw)
        if self.domain is not None and value not in self.domain:
            allowed = ", ".join(repr(v) for v in self.domain)
            raise OutsideDomain(
                f"{value!r} is not an allowed value for column {self.name!r}; allowed: {allowed}"
            )
        return value


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if not names:
            raise InvalidSchema("a schema needs at least one column")
        if len(names) > MAX_COLUMNS:
            raise InvalidSchema(f"a schema has at most {MAX_COLUMNS} columns, got {len(names)}")
        if len(set(names)) != len(names):
            raise InvalidSchema(f"column names must be distinct, got {names}")
        for column in self.columns:
            _check_column(column)
        if not self.key:
            object.__setattr__(self, "key", tuple(names))
        unknown = [name for name in self.key if name not in names]
        if unknown:
            raise InvalidSchema(f"primary key names unknown columns {unknown}")
        if len(set(self.key)) != len(self.key):
            raise InvalidSchema(f"primary key repeats a column: {list(self.key)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise UnknownColumn(f"column {name!r} is not in the schema; columns: {list(self.names)}")

    def normalise_values(self, mapping: Mapping[str, object]) -> Values:
        return frozenset((name, self.column(name).normalise(raw)) for name, raw in mapping.items())

    def is_complete(self, values: Values) -> bool:
        return len(values) == len(self.columns)

    def key_of(self, values: Values) -> tuple[Value, ...] | None:
        """The key tuple when every key column is filled, else None (the row is a group of its own)."""
        present = dict(values)
        if all(name in present for name in self.key):
            return tuple(present[name] for name in self.key)
        return None

    def ordered(self, values: Values) -> dict[str, Value]:
        """Values as a dict in schema column order."""
        present = dict(values)
        return {name: present[name] for name in self.names if name in present}


def make_schema(columns: Iterable[Column], key: Iterable[str] = ()) -> Schema:
    return Schema(tuple(columns), tuple(key))


def _check_column(column: Column) -> None:
    if not column.name or not column.name.strip() or len(column.name) > 100:
        raise InvalidSchema("column names must be non-empty and at most 100 characters")
    if column.type not in COLUMN_TYPES:
        raise InvalidSchema(
            f"column {column.name!r} has unknown type {column.type!r}; types: {list(COLUMN_TYPES)}"
        )
    if column.domain is None:
        return
    if not column.domain:
        raise InvalidSchema(f"column {column.name!r} has an empty domain")
    bare = Column(column.name, column.type)
    try:
        normalised = tuple(bare.normalise(value) for value in column.domain)
    except (WrongType, OutsideDomain) as error:
        raise InvalidSchema(f"domain of column {column.name!r}: {error.message}") from error
    if normalised != column.domain:
        object.__setattr__(column, "domain", normalised)
    if len(set(normalised)) != len(normalised):
        raise InvalidSchema(f"domain of column {column.name!r} repeats a value")


def _convert(column: Column, raw: object) -> Value:
    converter = _CONVERTERS[column.type]
    value = converter(raw)
    if value is None:
        raise WrongType(f"column {column.name!r} takes {_DESCRIPTIONS[column.type]}, got {_show(raw)}")
    return value


def _text(raw: object) -> Value | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > MAX_TEXT_LENGTH:
        return None
    return text


def _integer(raw: object) -> Value | None:
    if isinstance(raw, bool):
        return None
    number: int | None = None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        body = text[1:] if text[:1] in "+-" else text
        if body.isascii() and body.isdigit() and len(body) <= MAX_INTEGER_DIGITS:
            number = int(text)
    # The same bound whatever the input's form, so 10**30 is refused as an int as it is as text.
    if number is None or abs(number) >= 10**MAX_INTEGER_DIGITS:
        return None
    return number


def _number(raw: object) -> Value | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        # float() of a huge int raises OverflowError; such a number is not finite for our purposes.
        if abs(raw) >= 10**308:
            return None
        number = float(raw)
    elif isinstance(raw, float):
        number = raw
    elif isinstance(raw, str) and len(raw) <= 40:
        try:
            number = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    # + 0.0 turns -0.0 into 0.0: equal values must also print (and sort) the same on every replica.
    return number + 0.0 if math.isfinite(number) else None


def _boolean(raw: object) -> Value | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _date(raw: object) -> Value | None:
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


_CONVERTERS = {
    "text": _text,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
}
_DESCRIPTIONS = {
    "text": f"non-empty text of at most {MAX_TEXT_LENGTH} characters",
    "integer": f"a whole number of at most {MAX_INTEGER_DIGITS} digits",
    "number": "a finite number",
    "boolean": "true or false",
    "date": "a date written YYYY-MM-DD",
}


def _show(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."
