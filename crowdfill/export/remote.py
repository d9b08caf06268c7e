"""The requester REST calls an export makes (shapes as in docs/protocol.md).

``GET /api/tables/{id}`` for the schema, ``GET /api/tables/{id}/candidates`` for the rows with their
counts, statuses and final flags, and ``GET /api/tables/{id}/log`` (paged, incrementally) for who
contributed to each row.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from crowdfill.export.fields import ExportError, ExportFields, Record, What, export_fields
from crowdfill.export.rest import FINISHED_STATUSES, RequesterClient, ServerError, table_path
from crowdfill.export.rows import Contributions, rows_from_api
from crowdfill.model import CrowdFillError, Operation
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


class ExportApi(RequesterClient):
    def __init__(
        self, base_url: str, token: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(base_url, token, transport, timeout=60.0)
        self._contributions: dict[str, Contributions] = {}
        self._log_seq: dict[str, int] = {}

    def fields(self, table_id: str) -> ExportFields:
        """The export fields of the table's schema (``definition.schema.columns``)."""
        answer = self.get_object(table_path(table_id))
        definition = answer.get("definition")
        schema = definition.get("schema") if isinstance(definition, dict) else None
        columns = schema.get("columns") if isinstance(schema, dict) else None
        if not isinstance(columns, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns
        ):
            raise ServerError(f"table {table_id!r} has no schema columns in the server's answer")
        try:
            return export_fields((c["name"], str(c.get("type") or "text")) for c in columns)
        except ExportError as error:
            raise ServerError(f"table {table_id!r}: {error}") from error

    def snapshot(self, table_id: str, what: What, fields: ExportFields) -> Snapshot:
        """The final or candidate rows now, with contributors as of the same sequence number."""
        payload = self.get_object(table_path(table_id, "candidates"))
        seq = payload.get("seq", 0)
        if isinstance(seq, bool) or not isinstance(seq, int):
            raise ServerError("the candidate table has no sequence number")
        known = self._catch_up(table_id, seq)
        try:
            records = rows_from_api(payload, fields, what, known.contributors)
        except ExportError as error:
            raise ServerError(f"GET /api/tables/{table_id}/candidates: {error}") from error
        return Snapshot(records, str(payload.get("status", "")), seq)

    def _catch_up(self, table_id: str, upto: int) -> Contributions:
        """Read the log from where the last call stopped, up to ``upto`` (the rows' sequence number)."""
        known = self._contributions.setdefault(table_id, Contributions())
        after = self._log_seq.get(table_id, 0)
        while after < upto:
            page = self._log_page(table_id, after)
            wanted = [(seq, op) for seq, op in page if seq <= upto]
            for seq, op in wanted:
                known.add(op)
                after = seq
            if not page or len(wanted) < len(page):
                break
        self._log_seq[table_id] = after
        return known

    def _log_page(self, table_id: str, after: int) -> list[tuple[int, Operation]]:
        page = self.get_object(table_path(table_id, "log"), {"after_seq": after, "limit": LOG_PAGE})
        entries = page.get("ops")
        if not isinstance(entries, list):
            raise ServerError(f"the operation log of {table_id!r} has no list of ops")
        out: list[tuple[int, Operation]] = []
        for entry in entries:
            seq = entry.get("seq") if isinstance(entry, dict) else None
            if isinstance(seq, bool) or not isinstance(seq, int) or seq <= (out[-1][0] if out else after):
                raise ServerError(f"the operation log of {table_id!r} is out of order after {after}")
            try:
                out.append((seq, operation_from_wire(entry.get("op"))))
            except CrowdFillError as error:
                raise ServerError(f"operation {seq} of {table_id!r} is malformed: {error}") from error
        return out
