"""Plain export rows, from a candidate table in memory or from the server's REST answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from crowdfill.export.fields import ExportError, ExportFields, Record, What, coerce, normalise_rows
from crowdfill.model import (
    CENTRAL_CLIENT,
    Annotate,
    CandidateTable,
    Downvote,
    Fill,
    Operation,
    Retract,
    Row,
    Upvote,
    Values,
)
from crowdfill.model.operations import annotation_rank
from crowdfill.model.tally import Tally
from crowdfill.model.values import values_from_mapping


class Contributions:
    """Who contributed to which row, from the operation log: fillers and voters.

    A row's fillers are the workers who entered its values, through the rows it replaced; its voters
    are the workers whose votes count for it (an upvote on exactly its values, a downvote on a subset
    of them). Feed it operations in sequence order, as many times as new ones arrive.
    """

    def __init__(self) -> None:
        self._fillers: dict[str, frozenset[str]] = {}
        self._tally = Tally()
        # (values, column) -> the model's prediction kept for it, chosen as every replica chooses.
        self._predictions: dict[tuple[Values, str], Annotate] = {}

    def add(self, op: Operation) -> None:
        if isinstance(op, Fill) and op.worker != CENTRAL_CLIENT:
            self._fillers[op.new_row_id] = self._fillers.get(op.row_id, frozenset()) | {op.worker}
            if op.upvote and op.values:
                self._tally.record_up(op.worker, op.values)
        elif isinstance(op, Upvote) and op.values:
            self._tally.record_up(op.worker, op.values)
        elif isinstance(op, Downvote) and op.values:
            self._tally.record_down(op.worker, op.values)
        elif isinstance(op, Retract) and op.values and op.kind is not None:
            self._tally.retract(op.worker, op.kind, op.values)  # only standing votes make a contributor
        elif isinstance(op, Annotate) and op.kind == "prediction" and op.values:
            kept = self._predictions.get((op.values, op.column))
            if kept is None or annotation_rank(op) > annotation_rank(kept):
                self._predictions[(op.values, op.column)] = op

    def prediction(self, values: Values, column: str) -> Annotate | None:
        return self._predictions.get((values, column))

    def predicted(self) -> list[str]:
        """The columns the log holds predictions of, in first-seen order."""
        return list(dict.fromkeys(column for _, column in self._predictions))

    def fillers(self, row_id: str) -> frozenset[str]:
        return self._fillers.get(row_id, frozenset())

    def contributors(self, row_id: str, values: Values) -> list[str]:
        workers = self.fillers(row_id) | self._tally.upvoters(values) | self._tally.downvoters(values)
        return sorted(workers - {CENTRAL_CLIENT})


def contributions(log: Iterable[Operation]) -> Contributions:
    found = Contributions()
    for op in log:
        found.add(op)
    return found


def rows_from_table(
    table: CandidateTable, fields: ExportFields, what: What, log: Iterable[Operation] = ()
) -> list[Record]:
    """Export rows of ``table``: its final table or every current candidate row.

    Every field is present (empty cells are None). Contributors are the row's voters, plus, when the
    operation ``log`` is given, its fillers.
    """
    known = contributions(log)
    # Gold rows are the requester's own checks, not collected data: never exported as candidates.
    chosen: list[Row] = (
        table.final_table() if what == "final" else [r for r in table.rows() if not table.is_gold(r.row_id)]
    )
    meta = fields.meta
    out: list[Record] = []
    for row in chosen:
        rid = row.row_id
        record: Record = {meta["row_id"]: rid}
        record.update(row.as_dict())
        voters = table.upvoters(rid) | table.downvoters(rid)
        record[meta["up"]] = table.up(rid)
        record[meta["down"]] = table.down(rid)
        record[meta["score"]] = float(table.score(rid))
        record[meta["status"]] = str(table.status(rid))
        record[meta["contributors"]] = sorted((known.fillers(rid) | voters) - {CENTRAL_CLIENT})
        _add_predictions(record, fields, row.values, _from_table(table))
        out.append(record)
    return normalise_rows(out, fields.fields)


Contributors = Callable[[str, Values], list[str]]
Predictions = Callable[[Values, str], Annotate | None]


def rows_from_api(
    payload: object,
    fields: ExportFields,
    what: What,
    contributors: Contributors | None = None,
    predictions: Predictions | None = None,
) -> list[Record]:
    """Export rows from ``GET /api/tables/{id}/candidates`` (docs/protocol.md).

    Each row holds ``row_id``, its cells in ``values``, ``up``, ``down``, ``score``, ``status`` and
    ``final``; for ``what="final"`` only rows with ``final`` true are kept. ``contributors`` (from the
    operation log) fills the contributors field; without it the field is null.
    """
    items: Any = payload.get("rows") if isinstance(payload, Mapping) else None
    if not isinstance(items, list):
        raise ExportError("the server's answer has no list of rows")
    return list(records_from_api(items, fields, what, contributors, predictions))


def records_from_api(
    items: Iterable[object],
    fields: ExportFields,
    what: What,
    contributors: Contributors | None = None,
    predictions: Predictions | None = None,
) -> Iterator[Record]:
    """``rows_from_api`` one row at a time, from candidate rows as the server renders them (the
    ``/candidates`` answer's rows, or the lines of the streamed ``candidates.jsonl`` export)."""
    by_name = {f.name: f for f in fields.fields}
    meta = fields.meta
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("values"), Mapping):
            raise ExportError(f"row {index} from the server is not an object with values")
        if what == "final" and item.get("final") is not True:
            continue
        cells: Mapping[str, Any] = item["values"]
        unknown = [name for name in cells if name not in fields.columns]
        if unknown:
            raise ExportError(f"row {index} from the server has unknown columns {unknown}")
        try:
            record: Record = {meta["row_id"]: coerce(item.get("row_id"), by_name[meta["row_id"]])}
            for column in fields.columns:
                record[column] = coerce(cells.get(column), by_name[column])
            for fact in ("up", "down", "score", "status"):
                record[meta[fact]] = coerce(item.get(fact), by_name[meta[fact]])
        except ExportError as error:
            raise ExportError(f"row {index} from the server: {error}") from error
        row_id = record[meta["row_id"]]
        if not isinstance(row_id, str):
            raise ExportError(f"row {index} from the server has no row_id")
        record[meta["contributors"]] = (
            contributors(row_id, values_from_mapping(dict(cells))) if contributors is not None else None
        )
        _add_predictions(record, fields, values_from_mapping(dict(cells)), predictions)
        yield record


def _from_table(table: CandidateTable) -> Predictions:
    def find(values: Values, column: str) -> Annotate | None:
        return table.annotation(values, "prediction", column)

    return find


def _add_predictions(record: Record, fields: ExportFields, values: Values, find: Predictions | None) -> None:
    """The model's prediction and confidence per predicted column (None where it gave none)."""
    for column in fields.predicted:
        found = find(values, column) if find is not None else None
        record[fields.meta[f"model:{column}"]] = found.value if found is not None else None
        record[fields.meta[f"model_confidence:{column}"]] = found.confidence if found is not None else None
