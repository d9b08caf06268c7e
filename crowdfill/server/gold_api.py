"""Requester endpoints for a table's gold rows: list, add, remove, import from CSV (while draft),
and every voter's answers on them (docs/quality.md, "Gold rows")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from crowdfill.server import gold
from crowdfill.server.definition import DefinitionPatch
from crowdfill.server.failures import Failure
from crowdfill.server.gold_csv import MAX_CSV_BYTES, answers_csv, parse_gold_csv
from crowdfill.server.openapi import BODY, errors
from crowdfill.server.owner import DRAFT
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.screening import Screenings
from crowdfill.server.services import Services
from crowdfill.store.port import TableRecord
from crowdfill.wire.definition import GoldRowModel

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "name,team,verdict\nAda,red,true\n"}
        },
    }
}


def gold_router(services: Services) -> APIRouter:
    tables = services.tables
    screenings = Screenings(tables.store)
    router = requester_api(services.settings, tags=("gold",), answers=(404,))

    async def draft(table_id: str) -> TableRecord:
        record = await tables.record(table_id)
        if record.status != DRAFT:
            raise Failure(
                "table_not_draft",
                f"gold rows can only be changed while the table is a draft; table {table_id!r} is "
                f"{record.status} (workers may already have seen its gold rows)",
            )
        return record

    def listing(record: TableRecord) -> dict[str, Any]:
        spec = tables.spec(record)
        return {
            "gold": gold.definition_json(spec.gold, spec.schema),
            "screening": record.definition.get("screening"),
        }

    async def replace(record: TableRecord, rows: list[GoldRowModel]) -> TableRecord:
        return await tables.patch(record.table_id, DefinitionPatch(gold=rows))

    def stored(record: TableRecord) -> list[GoldRowModel]:
        return [GoldRowModel.model_validate(row) for row in record.definition.get("gold", [])]

    @router.get("/tables/{table_id}/gold", summary="List gold rows")
    async def list_gold(table_id: str) -> dict[str, Any]:
        return listing(await tables.record(table_id))

    @router.post(
        "/tables/{table_id}/gold",
        status_code=201,
        summary="Add a gold row (draft only)",
        responses=errors(409, *BODY),
    )
    async def add_gold(table_id: str, row: GoldRowModel) -> dict[str, Any]:
        record = await draft(table_id)
        wanted = row.model_copy(update={"id": row.id or gold.new_gold_id()})
        updated = await replace(record, [*stored(record), wanted])
        spec = tables.spec(updated)
        added = next(r for r in spec.gold if r.row_id == wanted.id)
        return gold.definition_json([added], spec.schema)[0]

    @router.delete(
        "/tables/{table_id}/gold/{gold_id}",
        summary="Remove a gold row (draft only)",
        responses=errors(409, 422),
    )
    async def remove_gold(table_id: str, gold_id: str) -> dict[str, Any]:
        record = await draft(table_id)
        rows = stored(record)
        kept = [row for row in rows if row.id != gold_id]
        if len(kept) == len(rows):
            raise Failure("not_found", f"table {table_id!r} has no gold row {gold_id!r}")
        await replace(record, kept)
        return {"id": gold_id, "deleted": True}

    @router.post(
        "/tables/{table_id}/gold/csv",
        summary="Import gold rows from CSV: the schema's columns plus verdict (draft only)",
        responses=errors(409, *BODY),
        openapi_extra=_CSV_BODY,
    )
    async def import_gold(table_id: str, request: Request) -> dict[str, Any]:
        record = await draft(table_id)
        body = await request.body()
        if len(body) > MAX_CSV_BYTES:
            raise Failure("payload_too_large", f"a gold CSV holds at most {MAX_CSV_BYTES} bytes")
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise Failure(
                "malformed", f"the CSV must be UTF-8 text ({error.reason} at byte {error.start})"
            ) from error
        spec = tables.spec(record)
        try:
            imported = parse_gold_csv(text, spec.schema.names)
            # Each line checked on its own first, so an error names the CSV line.
            for line, row in enumerate(imported, 2):
                try:
                    gold.build_gold(spec.schema, [row])
                except gold.GoldError as error:
                    raise gold.GoldError(
                        error.message.replace("gold row 1", f"CSV line {line}", 1)
                    ) from error
        except gold.GoldError as error:
            raise Failure("invalid_gold", error.message) from error
        updated = await replace(record, [*stored(record), *imported])
        return {"imported": len(imported), **listing(updated)}

    @router.get("/tables/{table_id}/gold/answers", summary="Every voter's answers on the gold rows")
    async def gold_answers(table_id: str) -> dict[str, Any]:
        return {"gold": await answers_of(table_id)}

    @router.get("/tables/{table_id}/gold/answers.csv", summary="Gold answers as CSV (one line per voter)")
    async def gold_answers_csv(table_id: str) -> StreamingResponse:
        entries = await answers_of(table_id)
        record = await tables.record(table_id)
        columns = tables.spec(record).schema.names
        return StreamingResponse(
            answers_csv(entries, columns),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{table_id}-gold.csv"'},
        )

    async def answers_of(table_id: str) -> list[dict[str, Any]]:
        record = await tables.record(table_id)
        spec = tables.spec(record)
        screened = await screenings.outcomes(table_id)
        owner = await tables.owner(table_id)
        if owner is None:
            return gold.answers(spec, None, screened)
        async with owner.lock:
            return gold.answers(owner.spec, owner.table, screened)

    return router
