"""What a first-time requester meets: the tables list first, a monitor that asks for the token
plainly, sub-cent budgets refused, and "paid" on the monitor once the table is settled."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.web.support import Requester, capitals_definition, new_context

pytestmark = pytest.mark.browser


def test_a_returning_requester_lands_on_the_list_of_tables_not_an_empty_form(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table_id = server.launched_table(capitals_definition(name="Capitals (overview)"))
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    page.goto(f"{server.base_url}/")
    overview = page.locator("#overview")
    expect(overview).to_contain_text("Your tables")
    row = overview.locator(f'tr[data-table-id="{table_id}"]')
    expect(row).to_contain_text("live")
    expect(page.locator("#schema-editor")).to_have_count(0)
    page.screenshot(path=str(screenshots / "requester-overview.png"), full_page=True)
    row.get_by_role("button", name="Capitals (overview)").click()
    expect(page.locator("#editor-header")).to_contain_text("Capitals (overview)")


def test_the_monitor_in_a_new_browser_asks_for_the_token_without_claiming_to_connect(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table_id = server.launched_table()
    page = new_context(browser, contexts).new_page()
    page.goto(f"{server.base_url}/tables/{table_id}/monitor")
    expect(page.locator("#connection")).to_have_text("Token needed")
    expect(page.locator("#token-form")).to_contain_text("requester-token")
    expect(page.locator(".stats")).to_be_hidden()
    page.screenshot(path=str(screenshots / "monitor-token-needed.png"), full_page=True)
    page.get_by_label("Token").fill(server.token)
    page.get_by_role("button", name="Open monitor").click()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator(".stats")).to_be_visible()
    expect(page.locator("#spend-label")).to_have_text("Spend (estimated) / budget")
    server.call("POST", f"/api/tables/{table_id}/close")
    expect(page.locator("#spend-label")).to_have_text("Paid / budget")
    page.screenshot(path=str(screenshots / "monitor-paid.png"), full_page=True)


def test_a_budget_with_a_fraction_of_a_cent_is_refused_not_rounded(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    page.goto(f"{server.base_url}/")
    page.locator("#new-table").click()
    page.locator("#table-name").fill("Sub-cent budget")
    page.get_by_label("column 1 name").fill("a")
    page.locator("#budget").fill("1.005")
    page.get_by_role("button", name="Create table").click()
    expect(page.locator("#notice")).to_contain_text("whole cents")
    page.screenshot(path=str(screenshots / "requester-budget-refused.png"))
    assert not [
        t for t in server.call("GET", "/api/tables")["tables"] if t["definition"]["name"] == "Sub-cent budget"
    ]
    page.locator("#budget").fill("1.01")
    page.get_by_role("button", name="Create table").click()
    expect(page.locator("#status-badge")).to_have_text("draft")
    [saved] = [
        t for t in server.call("GET", "/api/tables")["tables"] if t["definition"]["name"] == "Sub-cent budget"
    ]
    assert saved["definition"]["budget_cents"] == 101


def test_a_requester_duplicates_a_live_table_into_an_editable_draft(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table_id = server.launched_table(capitals_definition(name="Capitals to copy"))
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    page.goto(f"{server.base_url}/#table={table_id}")
    expect(page.locator("#status-badge")).to_have_text("live")
    page.get_by_role("button", name="Duplicate").click()
    expect(page.locator("#editor-header h2")).to_contain_text("Capitals to copy (copy)")
    expect(page.locator("#status-badge")).to_have_text("draft")
    expect(page.locator("#table-name")).to_be_editable()
    page.screenshot(path=str(screenshots / "requester-duplicated.png"))
    copies = [
        t
        for t in server.call("GET", "/api/tables")["tables"]
        if t["definition"]["name"] == "Capitals to copy (copy)"
    ]
    assert [t["status"] for t in copies] == ["draft"]


def test_the_checklist_ticks_each_step_from_an_empty_form_to_a_worker_joining(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    page = new_context(
        browser, contexts, requester_token=server.token, viewport={"width": 1200, "height": 900}
    ).new_page()
    page.goto(f"{server.base_url}/")
    page.locator("#new-table").click()
    steps = page.locator("#checklist li")
    done = page.locator('#checklist li[data-done="yes"]')
    expect(steps).to_have_count(6)
    expect(done).to_have_count(1)  # the default budget
    page.locator("#table-name").fill("Checklist table")
    page.get_by_label("column 1 name").fill("country")
    page.get_by_role("button", name="Add template row").click()
    expect(done).to_have_count(3)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "requester-checklist.png"))
    page.get_by_role("button", name="Create table").click()
    expect(page.locator('#checklist li[data-step="saved"]')).to_have_attribute("data-done", "yes")
    page.get_by_role("button", name="Launch").click()
    page.get_by_role("button", name="Launch and lock").click()
    expect(page.locator('#checklist li[data-step="launch"]')).to_have_attribute("data-done", "yes")
    expect(page.locator('#checklist li[data-step="links"]')).to_have_attribute("data-done", "no")
