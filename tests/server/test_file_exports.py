"""The exports the requester page downloads hold what ``crowdfill export`` writes, in every format."""

from __future__ import annotations

import argparse
import asyncio
import io
import zipfile
from pathlib import Path

import httpx
import pytest

from crowdfill.export import cli
from crowdfill.export.fields import fields_for_schema
from crowdfill.export.formats import read
from crowdfill.export.hub import push_dataset
from crowdfill.export.remote import ExportApi
from crowdfill.server.definition import spec_from_json
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, error_code, worker_token
from tests.support.worker_client import WorkerClient

FAST = {**CAPITALS, "rate_limit": {"ops_per_second": 1000, "burst": 1000}}


async def filled_table(server: LiveServer, http: httpx.AsyncClient) -> str:
    table: str = (await create_table(http, FAST))["id"]
    ann = WorkerClient(server.base_url, await worker_token(http, table, "ann"))
    await ann.connect()
    try:
        (france,) = [r for r, v in ann.rows().items() if dict(v) == {"country": "France"}]
        assert (await ann.fill(france, "capital", "Paris"))["ok"]
    finally:
        await ann.disconnect()
    return table


def cli_export(server: LiveServer, table: str, fmt: str, what: str, out: Path, no_row_ids: bool) -> None:
    args = argparse.Namespace(
        table=table,
        format=fmt,
        what=what,
        out=str(out),
        every=None,
        max_rounds=1,
        push_to_hub=None,
        private=False,
        no_progress=True,
        no_row_ids=no_row_ids,
    )
    with ExportApi(server.base_url, server.settings.requester_token) as api:
        assert cli.run_export(args, api, push_dataset) == 0


def unpacked(body: bytes, fmt: str, folder: Path, stem: str) -> Path:
    if fmt != "hf":
        path = folder / f"download.{fmt}"
        path.write_bytes(body)
        return path
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(folder)
    return folder / stem


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
@pytest.mark.parametrize("row_ids", [True, False])
async def test_the_page_export_holds_the_same_fields_and_rows_as_the_cli(
    server: LiveServer, http: httpx.AsyncClient, tmp_path: Path, fmt: str, row_ids: bool
) -> None:
    table = await filled_table(server, http)
    answer = await http.get(
        f"/api/tables/{table}/exports/candidates", params={"format": fmt, "row_ids": str(row_ids).lower()}
    )
    assert answer.status_code == 200, answer.text
    assert table in answer.headers["content-disposition"]
    fields = fields_for_schema(spec_from_json(FAST).schema).fields
    if not row_ids:
        fields = tuple(f for f in fields if f.name != "row_id")
    downloaded = read(fmt, unpacked(answer.content, fmt, tmp_path, f"{table}-candidates"), fields)
    out = tmp_path / f"cli-{fmt}"
    await asyncio.to_thread(cli_export, server, table, fmt, "candidates", out, not row_ids)
    from_cli = read(fmt, out, fields)

    assert downloaded == from_cli
    assert sorted((r["country"], r["capital"]) for r in downloaded) == [("France", "Paris"), ("Spain", None)]
    assert all(("row_id" in r) is row_ids for r in downloaded)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("what", ["final", "candidates"])
async def test_the_cli_streams_a_closed_table_into_the_file_the_page_export_gives(
    server: LiveServer, http: httpx.AsyncClient, tmp_path: Path, fmt: str, what: str
) -> None:
    table = await filled_table(server, http)
    ben = WorkerClient(server.base_url, await worker_token(http, table, "ben"))
    await ben.connect()
    try:  # a second vote makes France final
        (paris,) = [r for r, v in ben.rows().items() if dict(v) == {"country": "France", "capital": "Paris"}]
        assert (await ben.upvote(paris))["ok"]
    finally:
        await ben.disconnect()
    assert (await http.post(f"/api/tables/{table}/close")).status_code == 200
    answer = await http.get(f"/api/tables/{table}/exports/{what}", params={"format": fmt})
    assert answer.status_code == 200, answer.text
    fields = fields_for_schema(spec_from_json(FAST).schema).fields
    downloaded = read(fmt, unpacked(answer.content, fmt, tmp_path, f"{table}-{what}"), fields)
    out = tmp_path / f"cli-{fmt}"
    await asyncio.to_thread(cli_export, server, table, fmt, what, out, False)

    assert read(fmt, out, fields) == downloaded
    assert [r["country"] for r in downloaded if r["capital"] == "Paris"] == ["France"]


async def test_an_unknown_format_or_table_part_is_refused_naming_the_choices(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await filled_table(server, http)
    bad = await http.get(f"/api/tables/{table}/exports/final", params={"format": "xlsx"})
    assert (bad.status_code, error_code(bad)) == (422, "bad_export_format")
    assert "parquet" in bad.json()["error"]["message"]
    wrong = await http.get(f"/api/tables/{table}/exports/everything")
    assert wrong.status_code == 404


async def test_a_draft_has_nothing_to_export_yet(http: httpx.AsyncClient) -> None:
    draft = await create_table(http, FAST, launch=False)
    answer = await http.get(f"/api/tables/{draft['id']}/exports/final")
    assert (answer.status_code, error_code(answer)) == (409, "table_not_live")
