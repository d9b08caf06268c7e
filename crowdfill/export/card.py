"""The dataset card (``README.md``) of a Hugging Face export: how the data was made, for the Hub.

A YAML header (the Hub reads it: name, tags, size, the data files, and a ``crowdfill`` block with
the facts as data) and prose for people: the schema and key, the template, the scoring, how many
workers and operations, the cost and the compensation rule, the collection dates, the columns
(the per-row vote tallies ``up``, ``down``, ``score`` among them) and the CrowdFill version.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crowdfill.export.fields import ExportFields

CARD_NAME = "README.md"
_META_DESCRIPTIONS = {
    "row_id": "CrowdFill's id of the row",
    "up": "upvotes the row received (a fill counts as its filler's upvote)",
    "down": "downvotes the row received",
    "score": "the row's score under the table's scoring rule",
    "status": "the row's status when exported (green: in the final table)",
    "contributors": "the workers who entered a value of the row or voted on it",
}


@dataclass(frozen=True)
class CardFacts:
    table_id: str
    definition: dict[str, Any]
    status: str
    what: str
    fields: ExportFields
    rows: int
    workers: int
    operations: int
    cost_cents: int
    settled: bool
    first_at: float | None
    last_at: float | None
    version: str


def _when(moment: float | None) -> str | None:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _size(rows: int) -> str:
    if rows < 1000:
        return "n<1K"
    if rows < 10_000:
        return "1K<n<10K"
    if rows < 100_000:
        return "10K<n<100K"
    return "100K<n<1M"


def header(facts: CardFacts) -> dict[str, Any]:
    definition = facts.definition
    schema = definition.get("schema", {})
    return {
        "pretty_name": str(definition.get("name") or facts.table_id),
        "tags": ["crowdfill", "crowdsourcing", "structured-data"],
        "size_categories": [_size(facts.rows)],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
        "crowdfill": {
            "version": facts.version,
            "table_id": facts.table_id,
            "rows": facts.what,
            "status": facts.status,
            "schema": {"columns": schema.get("columns", []), "key": schema.get("key", [])},
            "template": definition.get("template", []),
            "scoring": definition.get("scoring", {}),
            "workers": facts.workers,
            "operations": facts.operations,
            "cost_cents": facts.cost_cents,
            "cost_settled": facts.settled,
            "budget_cents": definition.get("budget_cents"),
            "compensation": definition.get("compensation", {}),
            "collection_start": _when(facts.first_at),
            "collection_end": _when(facts.last_at),
            "num_rows": facts.rows,
        },
    }


def card_text(facts: CardFacts) -> str:
    """The whole card: the YAML header between ``---`` lines, then Markdown."""
    meta = header(facts)
    made = meta["crowdfill"]
    definition = facts.definition
    name = meta["pretty_name"]
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {name}",
        "",
        f"Collected with [CrowdFill](https://github.com/crowdfill/crowdfill) {facts.version}: workers filled "
        "and voted on one shared table in real time, steered towards the requester's template; the "
        "budget was split by each worker's contribution.",
        "",
        f"This export holds the {'final' if facts.what == 'final' else 'candidate'} rows of table "
        f"`{facts.table_id}` ({facts.rows} row(s)); the table is **{facts.status}**.",
    ]
    instructions = str(definition.get("instructions") or "").strip()
    if instructions:
        lines += [
            "",
            "## Instructions given to workers",
            "",
            *(f"> {line}" for line in instructions.splitlines()),
        ]
    lines += ["", "## Schema", "", "| column | type | allowed values |", "|---|---|---|"]
    for column in made["schema"]["columns"]:
        domain = column.get("domain")
        allowed = ", ".join(str(v) for v in domain) if domain else "any"
        lines.append(f"| {column.get('name')} | {column.get('type', 'text')} | {allowed} |")
    key = made["schema"]["key"]
    keyed = ", ".join(f"`{k}`" for k in key) if key else "every column"
    lines += ["", f"Key: {keyed} (rows agreeing on it are one entity)."]
    template = made["template"]
    lines += ["", "## Template", ""]
    if template:
        lines += ["The requester asked for rows matching:", ""]
        lines += [f"- {', '.join(f'{k} = {v}' for k, v in row.items()) or '(any row)'}" for row in template]
    else:
        lines.append("No template: any row the crowd agreed on.")
    scoring = made["scoring"]
    lines += [
        "",
        "## Scoring",
        "",
        f"Family `{scoring.get('family', 'threshold')}`, at least {scoring.get('min_votes', 2)} vote(s), "
        f"upvote weight {scoring.get('up_weight', 1.0)}, downvote weight {scoring.get('down_weight', 1.0)}.",
        "",
        "## Collection",
        "",
        f"- workers: {facts.workers}",
        f"- operations (fills and votes by workers): {facts.operations}",
        f"- first operation: {made['collection_start'] or 'none yet'}",
        f"- last operation: {made['collection_end'] or 'none yet'}",
        "",
        "## Cost and compensation",
        "",
    ]
    compensation = made["compensation"]
    cost = f"{facts.cost_cents / 100:.2f}"
    lines += [
        f"- total cost: {cost} ({'settled' if facts.settled else 'estimated, collection not settled'}) "
        f"of a budget of {int(made['budget_cents'] or 0) / 100:.2f}",
        f"- rule: the budget is split among the final rows, the row found k-th from last weighing "
        f"{compensation.get('growth', 1.1)}^-k of the last; {compensation.get('vote_share', 0.2)} of each "
        "row's share goes to the workers whose votes agreed with the outcome, the rest to the fillers of "
        "its values"
        + (
            f" (column weights {compensation['column_weights']})"
            if compensation.get("column_weights")
            else ""
        )
        + " (CrowdFill's docs/compensation.md).",
        "",
        "## Columns",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    meta_names = {v: k for k, v in facts.fields.meta.items()}
    for field in facts.fields.fields:
        meaning = _META_DESCRIPTIONS.get(meta_names.get(field.name, ""), "a column of the schema")
        lines.append(f"| {field.name} | {field.kind} | {meaning} |")
    return "\n".join(lines) + "\n"


def read_header(text: str) -> dict[str, Any]:
    """The YAML header of a card (what the Hub reads)."""
    if not text.startswith("---\n"):
        raise ValueError("a dataset card starts with a '---' line")
    end = text.index("\n---\n", 4)
    loaded = yaml.safe_load(text[4:end])
    if not isinstance(loaded, dict):
        raise ValueError("the card's header is not a mapping")
    return loaded


def write_card(directory: Path, text: str) -> Path:
    """``directory/README.md``, replaced atomically (a living export rewrites it each round)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CARD_NAME
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".README.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    Path(temporary).replace(path)
    return path
