"""``/docs`` loads Swagger UI from this server (swagger-ui-bundle), never from a CDN."""

from __future__ import annotations

import re

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import error_code


async def test_the_docs_page_loads_only_assets_of_this_server(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as browser:
        page = await browser.get("/docs")
        assert page.status_code == 200
        loaded = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        assert loaded, "the page loads Swagger UI's script and style"
        for url in loaded:
            assert url.startswith("/"), f"{url} is not on this server"
            assert (await browser.get(url)).status_code == 200, url


async def test_only_the_named_swagger_ui_files_are_served(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as browser:
        source_map = await browser.get("/vendor/swagger-ui/swagger-ui-bundle.js.map")
        assert source_map.status_code == 404
        assert error_code(source_map) == "not_found"
        assert (await browser.get("/vendor/swagger-ui/..%2Fpyproject.toml")).status_code == 404
        assert (await browser.get("/redoc")).status_code == 404  # it would load a CDN too
