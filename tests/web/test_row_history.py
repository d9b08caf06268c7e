"""The monitor shows a row's history: who filled which cell and who voted what, when."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.web.support import Requester, new_context, open_worker

pytestmark = pytest.mark.browser


def test_the_monitor_shows_who_filled_and_voted_on_a_row_and_counts_rows_by_status(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table()
    ann = open_worker(
        browser, contexts, server.worker_link(table, "ann"), viewport={"width": 1100, "height": 720}
    )
    bob = open_worker(
        browser, contexts, server.worker_link(table, "bob"), viewport={"width": 1100, "height": 720}
    )
    ann.fill(ann.row_with("France"), "capital", "Paris")
    ann.wait_until_saved()
    bob.row_with("Paris").locator("button.vote.down").click()
    expect(bob.row_with("Paris").locator(".my-vote.down")).to_have_count(1)

    page = new_context(
        browser, contexts, requester_token=server.token, viewport={"width": 1200, "height": 900}
    ).new_page()
    page.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator("#status-counts")).to_contain_text("green")
    paris = page.locator("#candidates tbody tr").filter(
        has=page.get_by_role("cell", name="Paris", exact=True)
    )
    paris.get_by_role("button", name="history").click()
    history = page.locator("#row-history")
    expect(history.locator("#history-table tbody tr")).to_have_count(3)
    rows = history.locator("#history-table tbody tr")
    expect(rows.nth(0)).to_contain_text("central")
    expect(rows.nth(1)).to_contain_text("ann")
    expect(rows.nth(1)).to_contain_text("filled capital = Paris")
    expect(rows.nth(2)).to_contain_text("bob")
    expect(rows.nth(2)).to_contain_text("downvoted")
    page.screenshot(path=str(screenshots / "monitor-row-history.png"), full_page=True)
    history.get_by_role("button", name="Close the row history").click()
    expect(history).to_be_hidden()
