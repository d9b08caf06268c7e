"""A candidate table's state as plain JSON-able data, and back (for storage snapshots).

The state is the set of rows ever added (live or replaced) plus the vote records: exactly what
integration depends on, so restoring gives the same table as replaying the log. The tombstones
of retracted votes are part of that state ("retracted"; a snapshot without the field has none), and
so are the models' annotations ("annotations", the wire form of their operations).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crowdfill.model.codec import operation_from_wire, operation_to_wire, reweigh_from_wire, reweigh_to_wire
from crowdfill.model.errors import CrowdFillError, MalformedMessage
from crowdfill.model.operations import Annotate, Downvote, Insert, Retract, Upvote
from crowdfill.model.schema import Schema
from crowdfill.model.scoring import Scoring
from crowdfill.model.table import CandidateTable
from crowdfill.model.template import Template
from crowdfill.model.values import Values, values_from_mapping, values_to_dict

FORMAT = 1


def snapshot(table: CandidateTable) -> dict[str, Any]:
    live = {row.row_id for row in table.rows()}
    return {
        "format": FORMAT,
        "closed": table.closed,
        "rows": [
            {"row_id": row.row_id, "values": values_to_dict(row.values), "live": row.row_id in live}
            | ({"gold": True} if table.is_gold(row.row_id) else {})
            for row in table.all_rows()
        ],
        "removed": sorted(table.removed_ids()),
        "votes": [
            {"worker": worker, "kind": kind, "values": values_to_dict(values)}
            for worker, kind, values in table.vote_records()
        ],
        "retracted": [
            {"worker": worker, "kind": kind, "values": values_to_dict(values)}
            for worker, kind, values in table.retractions()
        ],
        "annotations": [operation_to_wire(annotation) for annotation in table.annotations()],
        "weights": [reweigh_to_wire(op) for op in table.reweighs()],
    }


def restore(schema: Schema, scoring: Scoring, template: Template, state: dict[str, Any]) -> CandidateTable:
    """The table ``snapshot`` saved; a snapshot of the wrong shape raises MalformedMessage."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else state
        raise MalformedMessage(f"unknown snapshot format {found!r}; expected format {FORMAT}")
    table = CandidateTable(schema, scoring, template)
    for row_id in _list(state, "removed"):
        if not isinstance(row_id, str) or not row_id:
            raise MalformedMessage(f"snapshot: removed row ids must be non-empty strings, got {row_id!r}")
        table.tombstone(row_id)
    for row in _list(state, "rows"):
        row_id = row.get("row_id") if isinstance(row, dict) else None
        if not isinstance(row_id, str) or not row_id:
            raise MalformedMessage(f"snapshot: a row needs a non-empty string row_id, got {row!r}")
        table.integrate(Insert(row_id, _values(schema, row), gold=row.get("gold") is True))
    for vote in _list(state, "votes"):
        kind = vote.get("kind") if isinstance(vote, dict) else None
        worker = vote.get("worker") if isinstance(vote, dict) else None
        if kind not in ("up", "down") or not isinstance(worker, str) or not worker:
            raise MalformedMessage(f"snapshot: a vote needs a worker and kind 'up' or 'down', got {vote!r}")
        op = Upvote if kind == "up" else Downvote
        table.integrate(op(worker, "", _values(schema, vote)))
    # Snapshots written before retracts existed have no "retracted" field: no tombstones.
    for tombstone in _list(state, "retracted") if "retracted" in state else []:
        kind = tombstone.get("kind") if isinstance(tombstone, dict) else None
        worker = tombstone.get("worker") if isinstance(tombstone, dict) else None
        if kind not in ("up", "down") or not isinstance(worker, str) or not worker:
            raise MalformedMessage(
                f"snapshot: a retracted vote needs a worker and kind 'up' or 'down', got {tombstone!r}"
            )
        table.integrate(
            Retract(worker, "snapshot", _values(schema, tombstone), "up" if kind == "up" else "down")
        )
    # Snapshots written before models in the loop existed have no "annotations" field.
    for entry in _list(state, "annotations") if "annotations" in state else []:
        annotation = operation_from_wire(entry)
        if not isinstance(annotation, Annotate) or not annotation.values:
            raise MalformedMessage(f"snapshot: an annotation needs its type, kind and values, got {entry!r}")
        canonical = _values(schema, {"values": values_to_dict(annotation.values)})
        table.integrate(replace(annotation, values=canonical))
    # Snapshots from before reweighs existed have no weights: every worker weighs 1.
    for reweigh in _list(state, "weights") if "weights" in state else []:
        table.integrate(reweigh_from_wire(reweigh))
    if state.get("closed") is True:
        table.close()
    return table


def _list(state: dict[str, Any], name: str) -> list[Any]:
    value = state.get(name)
    if not isinstance(value, list):
        raise MalformedMessage(f"snapshot: field {name!r} must be a list")
    return value


def _values(schema: Schema, entry: dict[str, Any]) -> Values:
    raw = entry.get("values")
    if not isinstance(raw, dict):
        raise MalformedMessage(f"snapshot: values must be an object of column -> value, got {raw!r}")
    try:
        values = schema.normalise_values(raw)
    except CrowdFillError as error:
        raise MalformedMessage(f"snapshot does not fit the schema: {error.message}") from error
    # Canonical values normalise to themselves; anything else means the snapshot was altered.
    if values != values_from_mapping(raw):
        raise MalformedMessage(f"snapshot: values {raw!r} are not in canonical form")
    return values
