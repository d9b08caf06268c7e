"""What a table leaves in the store so it can be listed and exported without loading it.

A table's *summary* is what ``GET /api/tables`` shows of it (its seq, row counts, workers, whether
it is satisfied). The owner writes it when collection ends, and the registry writes it when it
unloads an idle live table, so a host with many tables lists them without rebuilding any.
A finished table also leaves its *final rows*, in chunks of ``CHUNK_ROWS``: its final-table export
streams them from the store one chunk at a time (constant memory), still without loading it.

A summary is only believed while the log has not moved past it (its ``seq`` is the stored last
seq) and the stored status is its status, so a crash after a reload can never show stale figures:
the caller falls back to loading the table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from crowdfill.model import CandidateTable
from crowdfill.store.port import JSON, Store, StoreError, TableRecord

if TYPE_CHECKING:  # the owner calls this module when it finishes: no import at run time
    from crowdfill.server.owner import TableOwner

SUMMARY_KIND = "summary"
FINAL_ROWS_KIND = "final_rows"
CHUNK_ROWS = 5000


def summary_of(owner: TableOwner) -> JSON:
    table = owner.table
    return {
        "status": owner.status,
        "seq": owner.seq,
        "rows": len(table) - len(table.gold_ids()),  # gold rows apart, as views.table_json counts
        "final_rows": len(table.final_table()),
        "workers": len(owner.people_ops()),
        "satisfied": bool(owner.central.satisfied),
    }


async def save_summary(store: Store, owner: TableOwner, **extra: Any) -> None:
    await store.put_item(owner.table_id, SUMMARY_KIND, "table", {**summary_of(owner), **extra})


async def record_finished(store: Store, owner: TableOwner) -> None:
    """Keep a finished table's final rows and summary (the summary last: it vouches for the chunks)."""
    chunks = await save_final_rows(store, owner.table_id, owner.table)
    await save_summary(store, owner, final_chunks=chunks)


async def save_final_rows(store: Store, table_id: str, table: CandidateTable) -> int:
    """Write the final table in chunks; returns how many. Values keep schema order as pairs
    (a JSON object's key order is not kept by every store)."""
    names = table.schema.names
    rows = table.final_table()
    chunks = 0
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = []
        for row in rows[start : start + CHUNK_ROWS]:
            present = dict(row.values)
            chunk.append([row.row_id, [[name, present[name]] for name in names if name in present]])
        await store.put_item(table_id, FINAL_ROWS_KIND, _chunk_key(chunks), {"rows": chunk})
        chunks += 1
    return chunks


async def current_summary(store: Store, record: TableRecord) -> JSON | None:
    """The table's stored summary if it still describes the table, else None."""
    summary = await store.get_item(record.table_id, SUMMARY_KIND, "table")
    if summary is None or summary.get("status") != record.status:
        return None
    if summary.get("seq") != await store.last_seq(record.table_id):
        return None
    return summary


async def stream_final_rows(store: Store, table_id: str, chunks: int) -> AsyncIterator[dict[str, Any]]:
    """The final rows as ``plain_rows(table, final=True)`` gives them, read one chunk at a time."""
    for index in range(chunks):
        item = await store.get_item(table_id, FINAL_ROWS_KIND, _chunk_key(index))
        if item is None:
            raise StoreError(f"table {table_id!r}: final rows chunk {index} is missing")
        rows: Sequence[Any] = item["rows"]
        for row_id, pairs in rows:
            yield {"row_id": row_id, "values": {name: value for name, value in pairs}}


def _chunk_key(index: int) -> str:
    return f"{index:08d}"
