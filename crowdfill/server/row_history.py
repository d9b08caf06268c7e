"""``GET /api/tables/{id}/rows/{row_id}/history``: who made a row and who voted on it, when.

A row is immutable: a fill makes a new row, so a row's making is the chain of fills back to the
template row the central client inserted. Votes count by values (DESIGN §2): an upvote on exactly
the row's values, a downvote on them or on a part of them (it counts against every row holding
that part), and the retracts of such votes. Read from the stored log, so it is the history as
sequenced, the same for every replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter

from crowdfill.server.failures import Failure
from crowdfill.server.openapi import errors
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services
from crowdfill.store.port import LogRecord

VOTES = ("upvote", "downvote", "retract")


def row_history(records: Iterable[LogRecord], row_id: str) -> dict[str, Any] | None:
    """The row's values and its history in sequence order, or None when no operation made it."""
    ordered = list(records)
    made_by: dict[str, LogRecord] = {}  # row id -> the insert or fill that made it
    for record in ordered:
        op = record.operation
        if op.get("type") == "insert":
            made_by[str(op["row_id"])] = record
        elif op.get("type") == "fill":
            made_by[str(op["new_row_id"])] = record
    if row_id not in made_by:
        return None
    chain: list[str] = []
    current: str | None = row_id
    while current is not None and current in made_by and current not in chain:
        chain.append(current)
        op = made_by[current].operation
        current = str(op["row_id"]) if op.get("type") == "fill" else None
    values: Mapping[str, Any] = made_by[row_id].operation.get("values") or {}
    making = {made_by[r].seq for r in chain}
    history = [entry(record, "made") for record in ordered if record.seq in making]
    for record in ordered:
        op = record.operation
        if op.get("type") not in VOTES:
            continue
        voted = op.get("values")
        if isinstance(voted, Mapping) and voted:
            if dict(voted) == dict(values):
                history.append(entry(record, "this row"))
            elif all(k in values and values[k] == v for k, v in voted.items()):
                history.append(entry(record, "part of this row"))
        elif str(op.get("row_id")) in chain:
            history.append(entry(record, "this row"))
    history.sort(key=lambda item: int(item["seq"]))
    return {"row_id": row_id, "values": dict(values), "history": history}


def entry(record: LogRecord, on: str) -> dict[str, Any]:
    op = record.operation
    item: dict[str, Any] = {
        "seq": record.seq,
        "at": record.at,
        "type": op.get("type"),
        "worker": op.get("worker"),
    }
    if op.get("type") == "fill":
        item.update(column=op.get("column"), value=op.get("value"), upvote=bool(op.get("upvote")))
    elif op.get("type") == "insert":
        item["values"] = op.get("values") or {}
    else:
        item["values"] = op.get("values") or {}
        if op.get("kind") is not None:
            item["kind"] = op.get("kind")
    if on != "made":
        item["on"] = on
    return item


def row_history_router(services: Services) -> APIRouter:
    settings = services.settings
    tables = services.tables

    router = requester_api(settings)

    @router.get(
        "/tables/{table_id}/rows/{row_id}/history",
        summary="Who made a row and who voted on it, when",
        responses=errors(404),
    )
    async def history(table_id: str, row_id: str) -> dict[str, Any]:
        await tables.record(table_id)
        # The whole log: a row's making can reach back to the table's first operations.
        found = row_history(await tables.store.read_log(table_id, 0, None), row_id)
        if found is None:
            raise Failure("not_found", f"table {table_id!r} has no row {row_id!r}")
        return found

    return router
