"""/static/ serves what the pages load and nothing else under web/."""

from __future__ import annotations

import posixpath
import re

import httpx

from crowdfill.server.settings import default_web_dir
from tests.support.live_server import LiveServer

WEB = default_web_dir()


def loaded_by_the_pages() -> set[str]:
    """Every /static/ URL a page names, and every module those scripts import (transitively)."""
    found = {m for page in WEB.glob("*.html") for m in re.findall(r'"(/static/[^"]+)"', page.read_text())}
    pending = [url for url in found if url.endswith(".js")]
    while pending:
        url = pending.pop()
        script = WEB / url.removeprefix("/static/")
        for relative in re.findall(r'from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)', script.read_text()):
            target = "/static/" + posixpath.normpath(
                posixpath.join(posixpath.dirname(url[8:]), "".join(relative))
            )
            if target not in found:
                found.add(target)
                pending.append(target)
    return found


async def test_every_file_the_pages_load_is_served(server: LiveServer) -> None:
    wanted = loaded_by_the_pages()
    assert {"/static/favicon.svg", "/static/css/crowdfill.css", "/static/js/worker.js"} <= wanted
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for url in sorted(wanted):
            response = await client.get(url)
            assert response.status_code == 200, url
            assert response.content == (WEB / url.removeprefix("/static/")).read_bytes()
        assert (await client.get("/vendor/socket.io.min.js")).status_code == 200


async def test_nothing_else_under_web_is_served(server: LiveServer) -> None:
    private = ["package.json", "package-lock.json", "index.html", "worker.html"]
    private += [str(p.relative_to(WEB)) for p in (WEB / "node_modules").glob("*/package.json")][:5]
    private += ["node_modules/socket.io-client/dist/socket.io.min.js", "node_modules/.installed"]
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for relative in private:
            response = await client.get(f"/static/{relative}")
            assert response.status_code == 404, relative
            assert response.json()["error"]["code"] in ("not_found", "page_missing"), relative
        for escape in ["/static/js/%2e%2e/package.json", "/static/css/..%2fpackage.json"]:
            assert (await client.get(escape)).status_code == 404, escape
