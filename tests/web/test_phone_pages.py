"""The requester page and the monitor on a 390 px phone: nothing wider than the screen, all reachable."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.web.support import Requester, capitals_definition, new_context, open_worker

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def page_width(page: Page) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width


def within_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0, selector
    assert box["x"] + box["width"] <= 390, selector


def test_the_requester_page_fits_a_phone_from_the_list_to_a_table_and_its_exports(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(capitals_definition(name="Phone capitals"))
    page = new_context(browser, contexts, requester_token=server.token, **PHONE).new_page()
    page.goto(f"{server.base_url}/")
    expect(page.locator("#overview")).to_be_visible()
    assert page_width(page) <= 390
    page.screenshot(path=str(screenshots / "requester-phone-overview.png"), full_page=True)

    page.locator("#overview").get_by_role("button", name="Phone capitals").click()
    expect(page.locator("#status-badge")).to_have_text("live")
    for selector in ("#editor-header .actions", "#export-download", "#show-compensation", "#monitor-link"):
        within_screen(page, selector)
    assert page_width(page) <= 390
    page.screenshot(path=str(screenshots / "requester-phone-table.png"), full_page=True)
    assert table


def test_the_monitor_fits_a_phone_with_its_figures_and_tables_in_view(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(capitals_definition())
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    ann.wait_until_saved()
    monitor = new_context(browser, contexts, requester_token=server.token, **PHONE).new_page()
    monitor.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(monitor.locator("#connection")).to_have_text("Live")
    expect(monitor.locator("#candidates")).to_contain_text("Paris")
    expect(monitor.locator("#model-status")).to_be_hidden()  # no model in the loop: no model figures
    for selector in (".stats", "#spend", "#row-count"):
        within_screen(monitor, selector)
    assert page_width(monitor) <= 390
    monitor.screenshot(path=str(screenshots / "monitor-phone.png"), full_page=True)
