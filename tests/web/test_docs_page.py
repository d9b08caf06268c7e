"""``/docs`` renders with no internet: every request the page makes to another host is refused."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.web.support import Requester, new_context

pytestmark = pytest.mark.browser


def test_the_api_docs_render_with_the_network_blocked(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    ours = urlsplit(server.base_url).netloc
    refused: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context = new_context(browser, contexts)
    context.route("**/*", offline)
    page = context.new_page()
    page.goto(f"{server.base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CrowdFill")
    expect(page.locator(".opblock-summary-path", has_text="/api/tables/{table_id}/launch")).to_be_visible()
    page.screenshot(path=screenshots / "docs-offline.png")
    assert refused == []  # nothing was even attempted off the server
