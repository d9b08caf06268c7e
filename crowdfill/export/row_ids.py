"""Exports without CrowdFill's internal row ids (``--no-row-ids``; the requester page's option).

A row id names a row inside one CrowdFill table; a dataset published elsewhere rarely needs it,
and it changes when a row is replaced. Leaving it out drops the field and its value per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from crowdfill.export.fields import ROW_ID, ExportFields, Record


def without_row_ids(fields: ExportFields) -> ExportFields:
    name = fields.meta[ROW_ID]
    return replace(fields, fields=tuple(f for f in fields.fields if f.name != name))


def drop_row_ids(records: list[Record], fields: ExportFields) -> list[Record]:
    """``records`` without the row-id field of ``fields`` (the full fields, before ``without_row_ids``)."""
    return list(dropping_row_ids(records, fields))


def dropping_row_ids(records: Iterable[Record], fields: ExportFields) -> Iterator[Record]:
    """``drop_row_ids`` one record at a time, for a stream of records."""
    name = fields.meta[ROW_ID]
    return ({key: value for key, value in record.items() if key != name} for record in records)
