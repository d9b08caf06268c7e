"""A candidate table's state as plain JSON-able data, and back (for storage snapshots).

The state is the set of rows ever added (live or replaced) plus the vote records: exactly what
integration depends on, so restoring gives the same table as replaying the log.
"""

from __future__ import annotations

from typing import Any

from crowdfill.model.errors import MalformedMessage
from crowdfill.model.operations import Downvote, Insert, Upvote
from crowdfill.model.schema import Schema
from crowdfill.model.scoring import Scoring
from crowdfill.model.table import CandidateTable
from crowdfill.model.template import Template
from crowdfill.model.values import values_from_mapping, values_to_dict

FORMAT = 1


def snapshot(table: CandidateTable) -> dict[str, Any]:
    live = {row.row_id for row in table.rows()}
    return {
        "format": FORMAT,
        "closed": table.closed,
        "rows": [
            {"row_id": row.row_id, "values": values_to_dict(row.values), "live": row.row_id in live}
            for row in table.all_rows()
        ],
        "removed": sorted(table.removed_ids()),
        "votes": [
            {"worker": worker, "kind": kind, "values": values_to_dict(values)}
            for worker, kind, values in table.vote_records()
        ],
    }


def restore(schema: Schema, scoring: Scoring, template: Template, state: dict[str, Any]) -> CandidateTable:
    if state.get("format") != FORMAT:
        raise MalformedMessage(f"unknown snapshot format {state.get('format')!r}")
    table = CandidateTable(schema, scoring, template)
    for row_id in state["removed"]:
        table.tombstone(row_id)
    for row in state["rows"]:
        table.integrate(Insert(row["row_id"], values_from_mapping(row["values"])))
    for vote in state["votes"]:
        values = values_from_mapping(vote["values"])
        op = Upvote if vote["kind"] == "up" else Downvote
        table.integrate(op(vote["worker"], "", values))
    if state["closed"]:
        table.close()
    return table
