"""Exporting final and candidate tables: CSV, JSONL, Parquet and Hugging Face datasets (DESIGN.md §7).

Writers take plain rows and fields (``fields.py``), so they serve the server's REST answers and
in-memory tables alike; ``crowdfill export`` (``cli.py``) drives them against a running server.
"""

from __future__ import annotations

from crowdfill.export.fields import (
    ExportError,
    ExportFields,
    Field,
    export_fields,
    fields_for_schema,
    normalise_rows,
)
from crowdfill.export.formats import (
    FORMATS,
    read,
    read_csv,
    read_hf,
    read_jsonl,
    read_parquet,
    to_arrow,
    to_dataset,
    write,
    write_csv,
    write_hf,
    write_jsonl,
    write_parquet,
)
from crowdfill.export.rows import rows_from_api, rows_from_table

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportFields",
    "Field",
    "export_fields",
    "fields_for_schema",
    "normalise_rows",
    "read",
    "read_csv",
    "read_hf",
    "read_jsonl",
    "read_parquet",
    "rows_from_api",
    "rows_from_table",
    "to_arrow",
    "to_dataset",
    "write",
    "write_csv",
    "write_hf",
    "write_jsonl",
    "write_parquet",
]
