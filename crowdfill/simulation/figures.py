"""Figures of a CrowdFill run: operations, duplication, wasted work, pay per worker."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from crowdfill.model import Annotate, CandidateTable, Downvote, Fill, Insert, Retract, Reweigh, Upvote, Values
from crowdfill.model.codec import sequenced_to_wire
from crowdfill.simulation.engine import Attempt, LoggedOperation


@dataclass(frozen=True)
class WorkFigures:
    operations: dict[str, int]
    rejected: dict[str, int]
    worker_actions: int
    wasted_actions: int
    useful_by_worker: dict[str, int]
    duplicate_rows: int
    concurrent_fills: int
    central_inserts: int


def work_figures(
    table: CandidateTable, log: Sequence[LoggedOperation], attempts: Sequence[Attempt]
) -> WorkFigures:
    """What the crowd did and how much of it reached the final table.

    A fill is useful when the row it made is a final row or was replaced on the way to one; an
    upvote when it is on a final row's values; a downvote when the values it rejects are in no final
    row. Refused actions are wasted.
    """
    final = table.final_table()
    final_values = {row.values for row in final}
    parent = {
        entry.operation.new_row_id: entry.operation.row_id
        for entry in log
        if isinstance(entry.operation, Fill)
    }
    ancestry: set[str] = set()
    for row in final:
        row_id: str | None = row.row_id
        while row_id is not None and row_id not in ancestry:
            ancestry.add(row_id)
            row_id = parent.get(row_id)
    useful: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for entry in log:
        op = entry.operation
        kinds[type(op).__name__.lower()] += 1
        if isinstance(
            op, Insert | Retract | Annotate | Reweigh
        ):  # simulated workers never retract or annotate
            continue
        if _useful(op, ancestry, final_values):
            useful[op.worker] += 1
    rejected = Counter(attempt.error or "unknown" for attempt in attempts if not attempt.accepted)
    live: Counter[Values] = Counter(row.values for row in table.rows())
    return WorkFigures(
        operations={
            kind: kinds[kind]
            for kind in ("insert", "fill", "upvote", "downvote", "reweigh")
            if kind != "reweigh" or kinds[kind]
        },
        rejected=dict(sorted(rejected.items())),
        worker_actions=len(attempts),
        wasted_actions=len(attempts) - sum(useful.values()),
        useful_by_worker=dict(sorted(useful.items())),
        duplicate_rows=sum(count - 1 for count in live.values()),
        concurrent_fills=sum(
            1 for attempt in attempts if attempt.accepted and attempt.stale and attempt.kind == "fill"
        ),
        central_inserts=kinds["insert"],
    )


def _useful(op: Fill | Upvote | Downvote, ancestry: set[str], final_values: set[Values]) -> bool:
    if isinstance(op, Fill):
        return op.new_row_id in ancestry
    if isinstance(op, Upvote):
        return op.values in final_values
    return not any(op.values <= values for values in final_values)


def log_digest(log: Sequence[LoggedOperation]) -> str:
    """A digest of the accepted operations, their order and their simulated times."""
    digest = hashlib.sha256()
    for entry in log:
        record = {"seq": entry.seq, "at": round(entry.at, 6), "op": sequenced_to_wire(entry.operation)}
        digest.update(json.dumps(record, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]
