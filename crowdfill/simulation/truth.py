"""The ground truth a simulated crowd knows: a CSV the user gives, or a generated SoccerPlayer table."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crowdfill.model import Column, ColumnType, CrowdFillError, Schema, Template, Value, Values
from crowdfill.model.examples import POSITIONS, SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS


class TruthError(ValueError):
    """The truth, its schema or the template cannot be used; the message says why."""


@dataclass(frozen=True)
class Truth:
    """A table of correct rows over ``schema``; keys are unique."""

    schema: Schema
    rows: tuple[Values, ...]
    _by_key: dict[tuple[Value, ...], Values] = field(init=False, repr=False, compare=False)
    _seen: dict[str, tuple[Value, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[tuple[Value, ...], Values] = {}
        for position, values in enumerate(self.rows):
            if not self.schema.is_complete(values):
                raise TruthError(f"truth row {position + 1} is incomplete: every cell must be filled")
            key = self.schema.key_of(values)
            assert key is not None  # a complete row has every key column
            if key in by_key:
                raise TruthError(f"truth row {position + 1} repeats the key {list(key)}")
            by_key[key] = values
        if not self.rows:
            raise TruthError("the truth has no rows")
        object.__setattr__(self, "_by_key", by_key)
        seen: dict[str, dict[Value, None]] = {name: {} for name in self.schema.names}
        for values in self.rows:
            for name, value in values:
                seen[name].setdefault(value, None)
        object.__setattr__(self, "_seen", {name: tuple(found) for name, found in seen.items()})

    def __len__(self) -> int:
        return len(self.rows)

    def row_for_key(self, key: tuple[Value, ...] | None) -> Values | None:
        return self._by_key.get(key) if key is not None else None

    def contains(self, values: Values) -> bool:
        """Whether ``values`` is exactly one of the truth's rows."""
        return self.row_for_key(self.schema.key_of(values)) == values

    def consistent(self, values: Values) -> bool:
        """Whether ``values`` is a subset of some truth row (a partial row that could still be right)."""
        truth_row = self.row_for_key(self.schema.key_of(values))
        if truth_row is not None:
            return values <= truth_row
        return any(values <= row for row in self.rows)

    def restricted_to(self, template: Template) -> list[Values]:
        """Truth rows that contain some template row's values."""
        return [row for row in self.rows if any(wanted <= row for wanted in template.rows)]

    def column_values(self, name: str) -> tuple[Value, ...]:
        """The distinct values of a column, in first-seen order (the column's observed domain)."""
        return self._seen.get(name, ())


# --------------------------------------------------------------------------- schema files and CSV
def schema_from_json(data: Mapping[str, Any]) -> Schema:
    """A schema from ``{"columns": [{"name", "type", "domain"}], "key": [...]}``."""
    try:
        columns = tuple(
            Column(
                str(spec["name"]),
                spec.get("type", "text"),
                tuple(spec["domain"]) if spec.get("domain") is not None else None,
            )
            for spec in data["columns"]
        )
        return Schema(columns, tuple(data.get("key", ())))
    except (KeyError, TypeError) as error:
        raise TruthError(f"a schema file needs 'columns' of {{name, type, domain}}: {error}") from error
    except CrowdFillError as error:
        raise TruthError(error.message) from error


def load_schema(path: Path) -> Schema:
    return schema_from_json(json.loads(path.read_text(encoding="utf-8")))


def infer_schema(header: Sequence[str], records: Sequence[Sequence[str]], key: Sequence[str]) -> Schema:
    """Column types from the cells (integer, number, boolean, date, else text); no domains."""
    columns = []
    for index, name in enumerate(header):
        cells = [record[index] for record in records]
        columns.append(Column(name, _infer_type(cells)))
    try:
        return Schema(tuple(columns), tuple(key) if key else (header[0],))
    except CrowdFillError as error:
        raise TruthError(error.message) from error


def load_truth_csv(path: Path, schema: Schema | None = None, key: Sequence[str] = ()) -> Truth:
    """Read a CSV with a header row; the schema is given or inferred (key: ``key`` or the first column)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration as error:
            raise TruthError(f"{path.name} is empty") from error
        records = [record for record in reader if any(cell.strip() for cell in record)]
    for number, record in enumerate(records, start=2):
        if len(record) != len(header):
            raise TruthError(f"{path.name} line {number}: {len(record)} cells, header has {len(header)}")
    if schema is None:
        schema = infer_schema(header, records, key)
    elif key:
        schema = Schema(schema.columns, tuple(key))
    if sorted(header) != sorted(schema.names):
        raise TruthError(f"CSV columns {header} do not match the schema's columns {list(schema.names)}")
    rows = []
    for number, record in enumerate(records, start=2):
        try:
            rows.append(schema.normalise_values(dict(zip(header, record, strict=True))))
        except CrowdFillError as error:
            raise TruthError(f"{path.name} line {number}: {error.message}") from error
    return Truth(schema, tuple(rows))


def _infer_type(cells: Sequence[str]) -> ColumnType:
    cleaned = [cell.strip() for cell in cells]
    candidates: tuple[ColumnType, ...] = ("integer", "number", "boolean", "date")
    for kind in candidates:
        column = Column("probe", kind)
        try:
            for cell in cleaned:
                column.normalise(cell)
        except CrowdFillError:
            continue
        return kind
    return "text"


# --------------------------------------------------------------------------- a generated truth
_COUNTRIES = (
    "Argentina",
    "Brazil",
    "Spain",
    "France",
    "Germany",
    "Italy",
    "Portugal",
    "Netherlands",
    "England",
    "Uruguay",
    "Belgium",
    "Croatia",
)
_ONSETS = ("b", "c", "d", "f", "g", "j", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "br", "gr")
_VOWELS = ("a", "e", "i", "o", "u", "ei", "ia", "ou")
_CODAS = ("", "", "n", "r", "s", "l", "z", "nho")


def generate_soccer_truth(rows: int, rng: random.Random) -> Truth:
    """A made-up SoccerPlayer table (the paper's schema, key name + nationality) of ``rows`` players."""
    if rows < 1:
        raise TruthError("a generated truth needs at least one row")
    taken: set[tuple[Value, ...]] = set()
    made: list[Values] = []
    countries = list(_COUNTRIES)
    while len(made) < rows:
        # The first rows cover the paper's template (a forward, a Brazilian, a Spaniard).
        nationality = countries[len(made)] if len(made) < 3 else rng.choice(countries)
        position = "FW" if len(made) == 0 else rng.choice(POSITIONS)
        name = f"{_word(rng)} {_word(rng)}".title()
        if (name, nationality) in taken:
            continue
        taken.add((name, nationality))
        caps = rng.randint(1, 150)
        scoring_rate = {"GK": 0.0, "DF": 0.05, "MF": 0.2, "FW": 0.5}[position]
        goals = round(caps * scoring_rate * rng.uniform(0.3, 1.5))
        made.append(
            SOCCER_PLAYER.normalise_values(
                {"name": name, "nationality": nationality, "position": position, "caps": caps, "goals": goals}
            )
        )
    return Truth(SOCCER_PLAYER, tuple(made))


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(1, 2))) + rng.choice(
        _CODAS
    )


# --------------------------------------------------------------------------- templates
def build_template(spec: str, truth: Truth, rng: random.Random) -> Template:
    """A template from ``keys:N`` (the keys of N random truth rows), ``empty:N`` (N empty rows),
    ``paper`` (the paper's SoccerPlayer template) or a JSON file holding a list of row objects.

    The truth must be able to satisfy it, otherwise no simulated crowd ever could.
    """
    rows = _template_rows(spec, truth, rng)
    try:
        template = Template.define(truth.schema, rows)
    except CrowdFillError as error:
        raise TruthError(error.message) from error
    if template.matching((str(i), row) for i, row in enumerate(truth.rows)) is None:
        raise TruthError(f"the truth ({len(truth)} rows) cannot satisfy the template {spec!r}")
    return template


def _template_rows(spec: str, truth: Truth, rng: random.Random) -> list[dict[str, object]]:
    kind, _, count_text = spec.partition(":")
    if kind in ("keys", "empty") and count_text:
        try:
            count = int(count_text)
        except ValueError as error:
            raise TruthError(f"template {spec!r}: the count must be a whole number") from error
        if count < 1:
            raise TruthError(f"template {spec!r}: the count must be at least 1")
        if kind == "empty":
            return [{} for _ in range(count)]
        if count > len(truth):
            raise TruthError(f"template {spec!r} asks for {count} keys; the truth has {len(truth)} rows")
        chosen = rng.sample(range(len(truth)), count)
        key = truth.schema.key
        return [{name: dict(truth.rows[i])[name] for name in key} for i in sorted(chosen)]
    if spec == "paper":
        if truth.schema != SOCCER_PLAYER:
            raise TruthError("the 'paper' template needs the SoccerPlayer schema")
        return [dict(row) for row in SOCCER_TEMPLATE_ROWS]
    path = Path(spec)
    if not path.is_file():
        raise TruthError(f"template {spec!r} is neither keys:N, empty:N, paper nor a JSON file")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise TruthError(f"{path.name} must hold a JSON list of row objects")
    return data
