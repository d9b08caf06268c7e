"""Schema: typed columns with optional domains and a primary key; values are normalised here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from crowdfill.model.errors import (
    CrowdFillError,
    IntegerOutOfRange,
    InvalidSchema,
    OutsideDomain,
    UnknownColumn,
    WrongType,
)
from crowdfill.model.rules import ColumnRules
from crowdfill.model.values import Value, Values

ColumnType = Literal["text", "integer", "number", "boolean", "date"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
MAX_TEXT_LENGTH = 1000
MAX_COLUMNS = 64
# JavaScript numbers hold whole numbers exactly only up to 2**53 - 1; beyond it the worker page
# would show (and send back) a rounded value, so the model refuses such integers outright.
MAX_SAFE_INTEGER = 2**53 - 1
NO_RULES = ColumnRules()
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    domain: tuple[Value, ...] | None = None
    rules: ColumnRules = NO_RULES

    def normalise(self, raw: object) -> Value:
        """Return ``raw`` as this column's canonical value, or raise a typed error naming the column."""
        value = _convert(self, raw)
        if self.domain is not None and value not in self.domain:
            allowed = ", ".join(repr(v) for v in self.domain)
            raise OutsideDomain(
                f"{value!r} is not an allowed value for column {self.name!r}; allowed: {allowed}"
            )
        if not isinstance(value, bool):
            self.rules.check(self.name, value)
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
        if len(values) < len(self.key):
            return None  # cannot hold every key column (most rows of a table being filled)
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
    _check_rules(column)
    if column.domain is None:
        return
    if not column.domain:
        raise InvalidSchema(f"column {column.name!r} has an empty domain")
    # A domain value that breaks a rule could never be filled: refuse it with the rule's message.
    ruled = Column(column.name, column.type, rules=column.rules)
    try:
        normalised = tuple(ruled.normalise(value) for value in column.domain)
    except (WrongType, OutsideDomain, IntegerOutOfRange) as error:
        raise InvalidSchema(f"domain of column {column.name!r}: {error.message}") from error
    except CrowdFillError as error:
        raise InvalidSchema(f"domain of column {column.name!r} breaks a rule: {error.message}") from error
    if normalised != column.domain:
        object.__setattr__(column, "domain", normalised)
    if len(set(normalised)) != len(normalised):
        raise InvalidSchema(f"domain of column {column.name!r} repeats a value")


_BOUNDED = ("integer", "number", "date")


def _check_rules(column: Column) -> None:
    """Refuse rules on types they do not fit; store bounds in the column's canonical form."""
    rules = column.rules
    name = column.name
    if (rules.minimum is not None or rules.maximum is not None) and column.type not in _BOUNDED:
        raise InvalidSchema(
            f"column {name!r}: min and max apply to integer, number and date columns, not {column.type}"
        )
    if (rules.max_length is not None or rules.pattern is not None) and column.type != "text":
        raise InvalidSchema(
            f"column {name!r}: max_length and pattern apply to text columns, not {column.type}"
        )
    if rules.max_length is not None and rules.max_length > MAX_TEXT_LENGTH:
        raise InvalidSchema(
            f"column {name!r}: max_length is at most {MAX_TEXT_LENGTH}, got {rules.max_length}"
        )
    bare = Column(name, column.type)
    minimum = _bound(bare, "min", rules.minimum)
    maximum = _bound(bare, "max", rules.maximum)
    if minimum is not None and maximum is not None and _greater(minimum, maximum):
        raise InvalidSchema(f"column {name!r}: min {rules.minimum!r} is above max {rules.maximum!r}")
    if (minimum, maximum) != (rules.minimum, rules.maximum) or type(minimum) is not type(rules.minimum):
        canonical = ColumnRules(minimum, maximum, rules.max_length, rules.pattern)
        object.__setattr__(column, "rules", canonical)


def _bound(bare: Column, label: str, raw: object) -> int | float | str | None:
    if raw is None:
        return None
    try:
        value = bare.normalise(raw)
    except CrowdFillError as error:
        raise InvalidSchema(f"{label} of column {bare.name!r}: {error.message}") from error
    # Bounded types never normalise to a boolean; the check keeps the type narrow for mypy.
    if isinstance(value, bool):
        raise InvalidSchema(f"{label} of column {bare.name!r} cannot be true or false")
    return value


def _greater(left: Value, right: Value) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left > right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left > right
    return False


def _convert(column: Column, raw: object) -> Value:
    converter = _CONVERTERS[column.type]
    value = converter(raw)
    if column.type == "integer" and isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise IntegerOutOfRange(
            f"column {column.name!r} takes whole numbers between -{MAX_SAFE_INTEGER} and "
            f"{MAX_SAFE_INTEGER} (browsers cannot hold larger ones exactly), got {_show(raw)}"
        )
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


# More digits than this are out of range whatever they say, so int() never parses a huge string.
_INTEGER_DIGITS = len(str(MAX_SAFE_INTEGER))


def _integer(raw: object) -> Value | None:
    """A whole number, unbounded here: the caller refuses one beyond the safe range by its own code."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        # A whole float (1629.0, as a spreadsheet or JSON encoder may write it) is that integer.
        return int(raw) if raw.is_integer() else None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    sign = text[:1] if text[:1] in "+-" else ""
    body = text[len(sign) :]
    whole, dot, fraction = body.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and fraction.strip("0")):
        return None
    digits = whole.lstrip("0") or "0"
    if len(digits) > _INTEGER_DIGITS:
        return MAX_SAFE_INTEGER + 1
    return int(sign + digits)


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
    "integer": "a whole number",
    "number": "a finite number",
    "boolean": "true or false",
    "date": "a date written YYYY-MM-DD",
}


def _show(raw: object) -> str:
    if isinstance(raw, int) and raw.bit_length() > 200:
        # repr() of a very large int may exceed Python's digit limit and raise.
        return f"an integer of about {int(raw.bit_length() * 0.30103)} digits"
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."
