"""Where an export's rows come from, chosen before the response starts (so errors are answers).

- A finished table that is not loaded: its final rows straight from the store, a chunk at a time
  (``finished``), without rebuilding the table.
- A finished table that is loaded: its rows built one at a time as they are sent; a finished table
  no longer changes, so this needs no lock and no copy.
- A live table: the rows as of one moment, taken under the owner's lock (the table changes while
  the response is being sent): references to the final rows (rows never change once made), or a
  copy of the candidate rows with their counts and statuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from crowdfill.model import CandidateTable, Row
from crowdfill.server.finished import current_summary, stream_final_rows
from crowdfill.server.owner import CLOSED, COMPLETE
from crowdfill.server.tables import Tables
from crowdfill.server.views import candidate_rows, iter_candidate_rows
from crowdfill.store.port import TableRecord

# Rows sent between two yields to the event loop while streaming from memory.
_YIELD_EVERY = 2000


async def export_rows(tables: Tables, record: TableRecord, which: str) -> AsyncIterator[dict[str, Any]]:
    """The rows of ``which`` ("final" or "candidates") of the table, ready to stream."""
    table_id = record.table_id
    finished = record.status in (COMPLETE, CLOSED)
    if which == "final" and finished and tables.loaded(table_id) is None:
        summary = await current_summary(tables.store, record)
        if summary is not None and isinstance(summary.get("final_chunks"), int):
            return stream_final_rows(tables.store, table_id, summary["final_chunks"])
    owner = await tables.owner(table_id)
    if owner is None:
        return _from(())
    table = owner.table
    if not owner.live:
        return _from(
            _final_rows(table, table.final_table()) if which == "final" else iter_candidate_rows(table)
        )
    async with owner.lock:
        if which == "final":
            # Rows never change once made: the final rows of this moment are references to them,
            # turned into text only as they are sent.
            return _from(_final_rows(table, table.final_table()))
        rows = candidate_rows(table)  # counts and statuses do change: copied as of now
    return _from(rows)


def _final_rows(table: CandidateTable, rows: Sequence[Row]) -> Iterator[dict[str, Any]]:
    ordered = table.schema.ordered
    return ({"row_id": row.row_id, "values": ordered(row.values)} for row in rows)


async def _from(rows: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for count, row in enumerate(rows, 1):
        yield row
        if count % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let other requests and the table owners run
