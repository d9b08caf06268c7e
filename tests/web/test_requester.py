"""A requester defines a table in the editors, launches it, and a worker link opens it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.web.support import Requester, WorkerPage, capitals_definition

pytestmark = pytest.mark.browser


def test_a_requester_creates_a_table_in_the_editors_launches_it_and_a_worker_link_opens_it(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    contexts.append(context)
    page = context.new_page()
    page.goto(f"{server.base_url}/")

    # The token is asked for once, then kept.
    page.get_by_label("Token").fill(server.token)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="New table").click()

    # Table Schema Editor.
    page.locator("#table-name").fill("Rivers")
    page.locator("#instructions").fill("Name long rivers and the continent they flow through.")
    page.get_by_label("column 1 name").fill("river")
    page.get_by_label("column 1 is part of the primary key").check()
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("column 2 name").fill("continent")
    page.get_by_label("column 2 allowed values, separated by commas").fill("Africa, Asia, Europe")
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("column 3 name").fill("length_km")
    page.get_by_label("column 3 type").select_option("integer")
    # Scoring and budget.
    page.locator("#scoring-family").select_option("threshold")
    page.locator("#scoring-min_votes").fill("3")
    page.locator("#budget").fill("7.50")
    # Constraint Editor: one partial template row and one empty one.
    page.get_by_role("button", name="Add template row").click()
    page.get_by_role("button", name="Add template row").click()
    page.get_by_label("template row 1, continent").select_option("Africa")
    page.screenshot(path=str(screenshots / "requester-editor.png"), full_page=True)

    page.get_by_role("button", name="Create table").click()
    expect(page.locator("#status-badge")).to_have_text("draft")
    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#status-badge")).to_have_text("live")
    expect(page.locator("#table-list")).to_contain_text("Rivers")

    tables = server.call("GET", "/api/tables")["tables"]
    rivers = next(t for t in tables if t["definition"]["name"] == "Rivers")
    definition = rivers["definition"]
    assert [(c["name"], c["type"], c.get("domain")) for c in definition["schema"]["columns"]] == [
        ("river", "text", None),
        ("continent", "text", ["Africa", "Asia", "Europe"]),
        ("length_km", "integer", None),
    ]
    assert definition["schema"]["key"] == ["river"]
    assert definition["scoring"]["family"] == "threshold"
    assert definition["scoring"]["min_votes"] == 3
    assert definition["budget_cents"] == 750
    assert definition["template"] == [{"continent": "Africa"}, {}]

    # A personal link for a worker, ready to copy.
    page.get_by_label("worker id for the new link (optional)").fill("wanda")
    page.get_by_role("button", name="Create link").click()
    link_field = page.get_by_role("textbox", name="link for wanda", exact=True)
    expect(link_field).to_have_value(re.compile(r"/w/.+\?token="))
    url = link_field.input_value()
    page.screenshot(path=str(screenshots / "requester-launched.png"), full_page=True)

    worker_context = browser.new_context()
    contexts.append(worker_context)
    worker = WorkerPage.open(worker_context, server.base_url + url[url.index("/w/") :])
    expect(worker.page.locator("#table-name")).to_have_text("Rivers")
    expect(worker.row_with("Africa")).to_have_count(1)
    expect(worker.rows).to_have_count(2)

    # Revoking the link ends that worker's session at once.
    page.get_by_role("button", name="revoke the link for wanda").click()
    expect(page.locator('#links tr[data-worker-id="wanda"]')).to_contain_text("revoked")
    expect(worker.page.locator("#notice")).to_contain_text("disconnected")


def test_the_requester_downloads_the_final_table_and_reads_the_compensation_report(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table(capitals_definition(template=[{"country": "France"}]))
    worker_context = browser.new_context()
    contexts.append(worker_context)
    ann = WorkerPage.open(worker_context, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(ann.page.locator("#notice")).to_contain_text("Collection is complete")

    context = browser.new_context(accept_downloads=True)
    contexts.append(context)
    context.add_init_script(f"localStorage.setItem('crowdfill.requesterToken', {json.dumps(server.token)})")
    page = context.new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("complete")

    with page.expect_download() as download:
        page.get_by_role("button", name="Final table (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0].split(",")[1:] == ["country", "capital"]
    assert lines[1].split(",")[1:] == ["France", "Paris"]

    page.get_by_role("button", name="Compensation report").click()
    report = page.locator("#compensation")
    expect(report).to_contain_text("Settled")
    expect(report.locator("tbody tr")).to_have_count(1)
    expect(report.locator("tbody tr td").first).to_have_text("ann")


def test_closing_a_live_table_takes_two_clicks_and_ends_the_workers_session(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    worker_context = browser.new_context()
    contexts.append(worker_context)
    ann = WorkerPage.open(worker_context, server.worker_link(table, "ann"))
    context = browser.new_context()
    contexts.append(context)
    context.add_init_script(f"localStorage.setItem('crowdfill.requesterToken', {json.dumps(server.token)})")
    page = context.new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("live")

    close = page.locator("#close")
    close.click()
    expect(close).to_have_text("Click again to close")
    assert server.call("GET", f"/api/tables/{table}")["status"] == "live"
    close.click()

    expect(page.locator("#status-badge")).to_have_text("closed")
    expect(ann.page.locator("#notice")).to_contain_text("The requester has closed collection")
    expect(ann.page.locator("#table .cell-editor")).to_have_count(0)
