"""``GET /api/tables/{id}/exports/{final|candidates}?format=...&row_ids=...``: the CLI's exports, as files.

The requester page downloads these. They are written by the same code as ``crowdfill export``
(``crowdfill.export``: the same fields, the model's predictions included, the same writers), so a
file from the page and one from the command line hold the same columns. ``format`` is ``csv``,
``jsonl``, ``parquet`` or ``hf`` (a Hugging Face ``save_to_disk`` directory, sent as a zip);
``row_ids=false`` leaves out CrowdFill's internal row ids.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from crowdfill.export.fields import ExportFields, Record, fields_for_schema
from crowdfill.export.formats import FORMATS, write
from crowdfill.export.row_ids import drop_row_ids, without_row_ids
from crowdfill.export.rows import contributions, rows_from_table
from crowdfill.model import Reweigh
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.server.failures import Failure
from crowdfill.server.openapi import errors
from crowdfill.server.requester_routes import requester_api
from crowdfill.server.services import Services

MEDIA = {
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "hf": "application/zip",
}
SUFFIX = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet", "hf": "-hf.zip"}


def file_exports_router(services: Services) -> APIRouter:
    tables = services.tables
    store = services.tables.store
    router = requester_api(services.settings)

    @router.get(
        "/tables/{table_id}/exports/{what}",
        summary="Download the final or candidate table as CSV, JSONL, Parquet or a HF dataset (zip)",
        responses=errors(404, 409),
        response_class=FileResponse,
    )
    async def export_file(
        table_id: str, what: str, format: str = "csv", row_ids: bool = True
    ) -> FileResponse:
        if what not in ("final", "candidates"):
            raise Failure("not_found", f"exports are 'final' or 'candidates', not {what!r}")
        if format not in FORMATS:
            raise Failure("bad_export_format", f"format must be one of {list(FORMATS)}, got {format!r}")
        owner = await tables.owner(table_id)
        if owner is None:
            raise Failure("table_not_live", f"table {table_id!r} is a draft: it has no rows to export yet")
        chosen: Literal["final", "candidates"] = "final" if what == "final" else "candidates"
        async with owner.lock:
            decoded = [sequenced_from_wire(record.operation) for record in await store.read_log(table_id)]
            log = [op for op in decoded if not isinstance(op, Reweigh)]  # the server's, no one's work
            fields = fields_for_schema(owner.spec.schema, contributions(log).predicted())
            records = rows_from_table(owner.table, fields, chosen, log)
        if not row_ids:
            records, fields = drop_row_ids(records, fields), without_row_ids(fields)
        folder = Path(tempfile.mkdtemp(prefix="crowdfill-export-"))
        try:
            path = await asyncio.to_thread(_write, format, records, fields, folder, f"{table_id}-{what}")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return FileResponse(
            path,
            media_type=MEDIA[format],
            filename=f"{table_id}-{what}{SUFFIX[format]}",
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    return router


def _write(fmt: str, records: list[Record], fields: ExportFields, folder: Path, stem: str) -> Path:
    if fmt != "hf":
        path = folder / f"{stem}{SUFFIX[fmt]}"
        write(fmt, records, fields.fields, path)
        return path
    dataset = folder / stem
    write("hf", records, fields.fields, dataset)
    # The dataset is a directory; one zip holds it, unpacked where ``load_from_disk`` can read it.
    return Path(shutil.make_archive(str(folder / f"{stem}-hf"), "zip", root_dir=folder, base_dir=stem))
