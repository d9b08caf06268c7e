"""The requester REST calls an export makes (shapes as in docs/protocol.md).

``GET /api/tables/{id}`` for the schema, ``GET /api/tables/{id}/candidates`` for the rows with their
counts, statuses and final flags (of a finished table: the streamed ``export/candidates.jsonl``,
read a line at a time), and ``GET /api/tables/{id}/log`` (paged, incrementally) for who
contributed to each row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from crowdfill import __version__
from crowdfill.client import FINISHED_STATUSES, Client, UnexpectedAnswer
from crowdfill.export.card import CardFacts
from crowdfill.export.fields import ExportError, ExportFields, Record, What, export_fields
from crowdfill.export.rows import Contributions, records_from_api, rows_from_api
from crowdfill.model import CENTRAL_CLIENT, CrowdFillError
from crowdfill.model.codec import operation_from_wire

LOG_PAGE = 5000


@dataclass(frozen=True)
class Snapshot:
    records: list[Record]
    status: str
    seq: int

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


@dataclass(frozen=True)
class Streamed:
    """A finished table's export rows, read from the server as they are consumed (once)."""

    records: Iterator[Record]
    status: str
    seq: int


class ExportApi(Client):
    """The SDK client with what an export needs on top: rows and their contributors, kept in step."""

    def __init__(
        self, base_url: str, token: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(base_url, token, transport=transport, timeout=60.0)
        self._contributions: dict[str, Contributions] = {}
        self._log_seq: dict[str, int] = {}
        # Per table: operations by workers, and the times of the first and last operation read.
        self._log_stats: dict[str, tuple[int, float | None, float | None]] = {}

    def fields(self, table_id: str) -> ExportFields:
        """The export fields of the table's schema (``definition.schema.columns``).

        A table whose log holds a model's predictions also exports them (value and confidence per
        predicted column); the fields are fixed here, so an export keeps one shape as it grows.
        """
        table = self.table(table_id)
        columns = table.columns
        if not columns:
            raise UnexpectedAnswer(f"table {table_id!r} has no schema columns in the server's answer")
        predicted = self._catch_up(table_id, table.seq).predicted()
        try:
            return export_fields(columns, predicted)
        except ExportError as error:
            raise UnexpectedAnswer(f"table {table_id!r}: {error}") from error

    def snapshot(self, table_id: str, what: What, fields: ExportFields) -> Snapshot:
        """The final or candidate rows now, with contributors as of the same sequence number."""
        candidates = self.candidates(table_id)
        known = self._catch_up(table_id, candidates.seq)
        try:
            records = rows_from_api(
                candidates.model_dump(), fields, what, known.contributors, known.prediction
            )
        except ExportError as error:
            raise UnexpectedAnswer(f"GET /api/tables/{table_id}/candidates: {error}") from error
        return Snapshot(records, candidates.status, candidates.seq)

    def streamed(self, table_id: str, what: What, fields: ExportFields) -> Streamed | None:
        """A finished table's rows as they arrive from the streamed ``candidates.jsonl`` export, with
        contributors from the log (read to its end first); None while the table is live, whose rows
        and log must be read as of one seq (``snapshot``). Nothing but the log's contributions and
        the row being read is held: the export is not read whole into memory."""
        table = self.table(table_id)
        if table.status not in FINISHED_STATUSES:
            return None
        known = self._catch_up(table_id, table.seq)

        def items() -> Iterator[object]:
            for number, line in enumerate(self.export_lines(table_id, "candidates.jsonl"), 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError as error:
                    raise UnexpectedAnswer(
                        f"line {number} of the candidates export of {table_id!r} is not JSON: {error}"
                    ) from error

        def records() -> Iterator[Record]:
            try:
                yield from records_from_api(items(), fields, what, known.contributors, known.prediction)
            except ExportError as error:
                raise UnexpectedAnswer(f"the candidates export of {table_id!r}: {error}") from error

        return Streamed(records(), table.status, table.seq)

    def _catch_up(self, table_id: str, upto: int) -> Contributions:
        """Read the log from where the last call stopped, up to ``upto`` (the rows' sequence number)."""
        known = self._contributions.setdefault(table_id, Contributions())
        after = self._log_seq.get(table_id, 0)
        count, first, last = self._log_stats.get(table_id, (0, None, None))
        for entry in self.log(table_id, after, upto, page=LOG_PAGE):
            if entry.seq <= after:
                raise UnexpectedAnswer(f"the operation log of {table_id!r} is out of order after {after}")
            if isinstance(entry.op, dict) and entry.op.get("type") == "reweigh":
                after = entry.seq  # the server's reweighs are no one's contribution
                continue
            try:
                op = operation_from_wire(entry.op)
            except CrowdFillError as error:
                raise UnexpectedAnswer(
                    f"operation {entry.seq} of {table_id!r} is malformed: {error}"
                ) from error
            known.add(op)
            if op.worker != CENTRAL_CLIENT:
                count += 1
            first = entry.at if first is None else first
            last = entry.at
            after = entry.seq
        self._log_seq[table_id] = after
        self._log_stats[table_id] = (count, first, last)
        return known

    def card_facts(self, table_id: str, what: What, fields: ExportFields, snapshot: Snapshot) -> CardFacts:
        """What the dataset card says about the export ``snapshot`` (read after it)."""
        table = self.table(table_id)
        report = self.compensation(table_id)
        if report.settled and report.settlement is not None:
            cost = int(report.settlement.get("paid_cents", 0))
        else:
            cost = int(report.estimated_total_cents or 0)
        operations, first, last = self._log_stats.get(table_id, (0, None, None))
        return CardFacts(
            table_id=table_id,
            definition=table.definition,
            status=snapshot.status,
            what=what,
            fields=fields,
            rows=len(snapshot.records),
            workers=table.workers,
            operations=operations,
            cost_cents=cost,
            settled=report.settled,
            first_at=first,
            last_at=last,
            version=__version__,
        )
