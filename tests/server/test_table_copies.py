"""Duplicating a table: a new draft with the same definition, whatever state the original is in."""

from __future__ import annotations

import httpx
import pytest

from crowdfill.client import AsyncClient, NotFound
from crowdfill.server.table_copies import MAX_NAME, copy_name
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table, error_code


async def test_a_live_table_is_copied_into_a_fresh_draft_with_its_definition(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
        table = await create_table(http, CAPITALS)  # launched
        assert table["status"] == "live"
        answer = await http.post(f"/api/tables/{table['id']}/duplicate")
        assert answer.status_code == 201
        copy = answer.json()
        assert copy["id"] != table["id"]
        assert copy["status"] == "draft"
        assert copy["definition"]["name"] == table["definition"]["name"] + " (copy)"
        original = {k: v for k, v in table["definition"].items() if k != "name"}
        assert {k: v for k, v in copy["definition"].items() if k != "name"} == original
        # The copy is a draft like any other: editable, then launchable.
        edited = await http.patch(f"/api/tables/{copy['id']}", json={"budget_cents": 900})
        assert edited.status_code == 200
        assert (await http.post(f"/api/tables/{copy['id']}/launch")).status_code == 200


async def test_an_unknown_table_cannot_be_copied(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers) as http:
        missing = await http.post("/api/tables/t-missing/duplicate")
        assert missing.status_code == 404
        assert error_code(missing) == "table_not_found"
        anonymous = await http.post("/api/tables/t-missing/duplicate", headers={"Authorization": ""})
        assert anonymous.status_code == 401


async def test_the_sdk_duplicates_a_table(server: LiveServer) -> None:
    async with AsyncClient(server.base_url, server.settings.requester_token) as client:
        table = await client.create_table(CAPITALS)
        copy = await client.duplicate(table.id)
        assert copy.status == "draft"
        assert copy.id != table.id
        with pytest.raises(NotFound) as raised:
            await client.duplicate("t-missing")
        assert raised.value.code == "table_not_found"


def test_a_long_name_is_shortened_so_the_copy_stays_within_the_limit() -> None:
    name = copy_name("n" * MAX_NAME)
    assert len(name) == MAX_NAME
    assert name.endswith(" (copy)")
