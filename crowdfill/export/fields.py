"""The columns of an exported table: the schema's own columns plus CrowdFill's per-row facts.

Writers take plain rows (dicts) and a list of fields, so rows can come from the REST API or from a
table in memory. Every field has a kind that fixes how each format stores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from crowdfill.model import Schema

FieldKind = Literal["text", "integer", "number", "boolean", "date", "list"]
FIELD_KINDS: tuple[str, ...] = get_args(FieldKind)
What = Literal["final", "candidates"]

# CrowdFill's own columns, after the schema's. "contributors" lists the workers who entered a value
# of the row (through the rows it replaced) or voted on it.
META_FIELDS: tuple[tuple[str, FieldKind], ...] = (
    ("up", "integer"),
    ("down", "integer"),
    ("score", "number"),
    ("status", "text"),
    ("contributors", "list"),
)
ROW_ID = "row_id"
META_PREFIX = "crowdfill_"

Cell = str | int | float | bool | list[str] | None
Record = dict[str, Cell]


class ExportError(ValueError):
    """Rows that do not fit their fields, or an export that cannot be written."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ExportError(f"field {self.name!r} has unknown kind {self.kind!r}; kinds: {FIELD_KINDS}")


@dataclass(frozen=True)
class ExportFields:
    """The fields in order, and which of them are the schema's columns (the rest are CrowdFill's)."""

    fields: tuple[Field, ...]
    columns: tuple[str, ...]
    meta: dict[str, str]
    # Columns a model in the loop predicted: each adds "model_<column>" and "model_<column>_confidence"
    # (meta keys "model:<column>" and "model_confidence:<column>").
    predicted: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def export_fields(columns: Iterable[tuple[str, str]], predicted: Iterable[str] = ()) -> ExportFields:
    """Fields for ``(name, type)`` schema columns: ``row_id``, the columns, then the per-row facts.

    A CrowdFill field whose name a schema column already uses is renamed ``crowdfill_<name>``.
    ``predicted`` columns (a model in the loop predicted them) add the model's value and confidence.
    """
    column_fields = [Field(name, _kind(name, kind)) for name, kind in columns]
    taken = {f.name for f in column_fields}
    meta: dict[str, str] = {}
    for name in (ROW_ID, *(n for n, _ in META_FIELDS)):
        meta[name] = META_PREFIX + name if name in taken else name
    kinds = {f.name: f.kind for f in column_fields}
    model_fields: list[Field] = []
    chosen = tuple(c for c in dict.fromkeys(predicted) if c in kinds)
    for column in chosen:
        for key, name, kind in (
            (f"model:{column}", f"model_{column}", kinds[column]),
            (f"model_confidence:{column}", f"model_{column}_confidence", "number"),
        ):
            meta[key] = META_PREFIX + name if name in taken else name
            model_fields.append(Field(meta[key], kind))
    fields = (
        Field(meta[ROW_ID], "text"),
        *column_fields,
        *(Field(meta[name], kind) for name, kind in META_FIELDS),
        *model_fields,
    )
    return ExportFields(fields, tuple(f.name for f in column_fields), meta, chosen)


def fields_for_schema(schema: Schema, predicted: Iterable[str] = ()) -> ExportFields:
    return export_fields(((column.name, column.type) for column in schema.columns), predicted)


def _kind(name: str, kind: str) -> FieldKind:
    if kind not in FIELD_KINDS or kind == "list":
        raise ExportError(f"column {name!r} has unknown type {kind!r}")
    return kind  # type: ignore[return-value]  # checked against the literal's values just above


def coerce(value: object, field: Field) -> Cell:
    """``value`` as ``field`` stores it, or an error naming the field; None stays None (missing)."""
    if value is None:
        return None
    kind = field.kind
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, str) and _is_date(value):
        return value
    if kind == "list" and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ExportError(f"field {field.name!r} holds {kind} values, got {value!r}")


def _is_date(text: str) -> bool:
    try:
        return len(text) == 10 and date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def normalise_rows(rows: Iterable[Mapping[str, object]], fields: Sequence[Field]) -> list[Record]:
    """Rows with exactly ``fields`` as keys, in order, each value coerced (absent -> None)."""
    names = {f.name for f in fields}
    out: list[Record] = []
    for index, row in enumerate(rows):
        unknown = [key for key in row if key not in names]
        if unknown:
            raise ExportError(f"row {index} has fields that are not exported: {unknown}")
        try:
            out.append({f.name: coerce(row.get(f.name), f) for f in fields})
        except ExportError as error:
            raise ExportError(f"row {index}: {error}") from error
    return out
