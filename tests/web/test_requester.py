"""A requester defines a table in the editors, launches it, and a worker link opens it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.web.support import Requester, capitals_definition, new_context, open_worker

pytestmark = pytest.mark.browser


def test_a_requester_creates_a_table_in_the_editors_launches_it_and_a_worker_link_opens_it(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    page = new_context(browser, contexts, viewport={"width": 1280, "height": 1000}).new_page()
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
    # Scoring and budget: a new table starts at the server's default, reputation with 3 votes;
    # another family brings its own vote gate.
    expect(page.locator("#scoring-family")).to_have_value("reputation")
    expect(page.locator("#scoring-min_votes")).to_have_value("3")
    page.locator("#scoring-family").select_option("threshold")
    expect(page.locator("#scoring-min_votes")).to_have_value("2")
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
    # Launch asks first, naming what will lock.
    confirm = page.locator("#launch-confirm")
    expect(confirm).to_contain_text("3 columns (river, continent, length_km), key river")
    expect(confirm).to_contain_text("the template: 2 rows")
    expect(confirm).to_contain_text("the budget: $7.50")
    expect(page.locator("#status-badge")).to_have_text("draft")
    page.screenshot(path=str(screenshots / "requester-launch-confirm.png"), full_page=True)
    page.get_by_role("button", name="Launch and lock").click()
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

    worker = open_worker(browser, contexts, server.base_url + url[url.index("/w/") :])
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
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(ann.page.locator("#notice")).to_contain_text("Collection is complete")

    page = new_context(browser, contexts, requester_token=server.token, accept_downloads=True).new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("complete")

    # The page's export holds the CLI's fields (row_id, the columns, then CrowdFill's facts).
    with page.expect_download() as download:
        page.locator("#export-download").click()
    assert download.value.suggested_filename.endswith("-final.csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0].split(",") == [
        "row_id",
        "country",
        "capital",
        "up",
        "down",
        "score",
        "status",
        "contributors",
    ]
    assert lines[1].split(",")[1:3] == ["France", "Paris"]

    page.get_by_role("button", name="Compensation report").click()
    report = page.locator("#compensation")
    # France came from the template; the completed table pays ann its share too: the whole budget
    expect(report).to_contain_text("Settled (completed): $5.00 paid of a $5.00 budget, $0.00 unpaid.")
    expect(report.locator("#unpaid-reasons")).to_have_text("The whole budget is paid out.")
    payments = report.locator("table:not(#unpaid-reasons) tbody tr")
    expect(payments).to_have_count(1)
    expect(payments.locator("td")).to_have_text(["ann", "$5.00"])


def _dollars(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def test_the_compensation_report_of_a_table_closed_early_shows_what_is_unpaid_and_why(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(capitals_definition(template=[{"country": "France"}, {}]))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(ann.row_with("Paris")).to_have_count(1)
    server.call("POST", f"/api/tables/{table}/close")
    rest = server.call("GET", f"/api/tables/{table}/compensation")
    # the second template row never got a final row; France was the template's; nobody but the
    # filler voted for Paris
    assert set(rest["unpaid_reasons"]) >= {"closed_early_unfilled", "template_values", "no_agreeing_voters"}

    page = new_context(browser, contexts, requester_token=server.token).new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("closed")
    page.get_by_role("button", name="Compensation report").click()
    report = page.locator("#compensation")
    expect(report).to_contain_text(
        f"Settled (closed early): {_dollars(rest['paid_cents'])} paid of a $5.00 budget, "
        f"{_dollars(rest['unpaid_cents'])} unpaid."
    )
    reasons = report.locator("#unpaid-reasons tbody tr")
    expect(reasons).to_have_count(len(rest["unpaid_reasons"]))
    for code, cents in rest["unpaid_reasons"].items():
        expect(report.locator(f'#unpaid-reasons tr[data-reason="{code}"] td').last).to_have_text(
            _dollars(cents)
        )
    expect(report.locator('#unpaid-reasons tr[data-reason="closed_early_unfilled"]')).to_contain_text(
        "template rows that never got a final row"
    )
    report.screenshot(path=str(screenshots / "requester-unpaid-reasons.png"))


def test_closing_a_live_table_takes_two_clicks_and_ends_the_workers_session(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    page = new_context(browser, contexts, requester_token=server.token).new_page()
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


def _requester_page(browser: Browser, contexts: list[BrowserContext], server: Requester, table: str) -> Page:
    viewport = {"width": 1280, "height": 1000}
    page = new_context(browser, contexts, requester_token=server.token, viewport=viewport).new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("live")
    return page


def test_blocking_a_worker_from_the_links_list_takes_two_clicks_and_ends_their_session(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    server.worker_link(table, "bob")
    page = _requester_page(browser, contexts, server, table)

    block = page.get_by_role("button", name="block worker ann")
    block.click()
    expect(block).to_have_text("Click again to block")
    assert not any(w["blocked"] for w in server.call("GET", f"/api/tables/{table}/workers")["workers"])
    block.click()

    expect(page.locator('#links tr[data-worker-id="ann"]')).to_have_attribute("data-blocked", "yes")
    expect(page.locator('#links tr[data-worker-id="ann"] .badge')).to_have_text("blocked")
    expect(page.get_by_role("button", name="block worker bob")).to_have_count(1)
    expect(ann.page.locator("#notice")).to_contain_text("disconnected")
    workers = {
        w["worker_id"]: w["blocked"] for w in server.call("GET", f"/api/tables/{table}/workers")["workers"]
    }
    assert workers["ann"] is True
    assert workers.get("bob", False) is False


def test_a_link_can_be_given_an_expiry_in_hours_and_a_nonsense_expiry_is_refused(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    page = _requester_page(browser, contexts, server, table)
    worker_field = page.get_by_label("worker id for the new link (optional)")
    expiry_field = page.get_by_label("link expires after this many hours (optional)")

    worker_field.fill("mallory")
    expiry_field.fill("-2")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#notice")).to_contain_text("number of hours")
    assert server.call("GET", f"/api/tables/{table}/links")["links"] == []

    worker_field.fill("eve")
    expiry_field.fill("2")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator('#links tr[data-worker-id="eve"] .expires')).not_to_have_text("never")
    worker_field.fill("ned")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator('#links tr[data-worker-id="ned"] .expires')).to_have_text("never")

    links = {link["worker_id"]: link for link in server.call("GET", f"/api/tables/{table}/links")["links"]}
    assert set(links) == {"eve", "ned"}
    assert links["eve"]["expires_at"] - links["eve"]["created_at"] == pytest.approx(2 * 3600, abs=1)
    assert links["ned"]["expires_at"] is None


def test_a_worker_from_mturk_is_listed_without_a_link_and_can_be_blocked(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    signed = server.call("POST", f"/api/tables/{table}/recruit-urls", {"platform": "mturk"})["query"]
    query = urlencode({**signed, "assignmentId": "ASSIGN7", "hitId": "HIT7", "workerId": "AWORKER7"})
    turker = open_worker(browser, contexts, f"{server.base_url}/w/{table}?{query}")
    page = _requester_page(browser, contexts, server, table)

    row = page.locator('#links tr[data-worker-id="mturk:AWORKER7"]')
    expect(row).to_contain_text("no personal link")
    block = page.get_by_role("button", name="block worker mturk:AWORKER7")
    block.click()
    block.click()

    expect(row).to_have_attribute("data-blocked", "yes")
    expect(turker.page.locator("#notice")).to_contain_text("disconnected")


def test_a_blocked_worker_is_unblocked_with_one_click_and_their_link_opens_the_table_again(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    link = server.worker_link(table, "ann")
    server.call("POST", f"/api/tables/{table}/workers/ann/block")
    page = _requester_page(browser, contexts, server, table)
    row = page.locator('#links tr[data-worker-id="ann"]')
    expect(row).to_have_attribute("data-blocked", "yes")

    page.get_by_role("button", name="unblock worker ann").click()

    expect(row).to_have_attribute("data-blocked", "no")
    expect(row.locator(".badge")).to_have_count(0)
    expect(page.get_by_role("button", name="block worker ann")).to_have_count(1)
    expect(page.locator("#toasts")).to_contain_text("ann is unblocked")
    workers = {
        w["worker_id"]: w["blocked"] for w in server.call("GET", f"/api/tables/{table}/workers")["workers"]
    }
    assert workers.get("ann", False) is False  # listed only while blocked, online or with work done
    ann = open_worker(browser, contexts, link)
    expect(ann.row_with("France")).to_have_count(1)
