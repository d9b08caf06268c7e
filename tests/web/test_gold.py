"""Gold rows and screening in the browser: the requester's panel, the worker page, the monitor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, FilePayload, expect

from tests.web.support import Requester, capitals_definition, new_context, open_worker

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1200, "height": 900}
FAST = {"ops_per_second": 1000, "burst": 1000}


def test_a_requester_adds_gold_rows_a_worker_votes_on_one_as_on_any_row_and_the_monitor_lists_it_apart(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.call("POST", "/api/tables", capitals_definition(rate_limit=FAST))["id"]
    page = new_context(browser, contexts, requester_token=server.token, viewport=VIEWPORT).new_page()
    page.goto(f"{server.base_url}/#table={table}")
    panel = page.locator("#gold-panel")
    expect(panel.locator("#gold-rows")).to_contain_text("No gold rows.")
    page.get_by_label("gold country").fill("Italy")
    page.get_by_role("button", name="Add gold row").click()
    expect(page.locator("#notice")).to_contain_text("a gold row is complete; fill capital")
    page.get_by_label("gold capital").fill("Rome")
    page.get_by_role("button", name="Add gold row").click()
    expect(panel.locator("#gold-rows tbody tr")).to_have_count(1)
    csv_text = b"country,capital,verdict\nSpain,Barcelona,false\nPeru,Lima,true\n"
    page.get_by_label("gold rows CSV file").set_input_files(
        files=[FilePayload(name="gold.csv", mimeType="text/csv", buffer=csv_text)]
    )
    page.get_by_role("button", name="Import").click()
    expect(panel.locator("#gold-rows tbody tr")).to_have_count(3)
    expect(panel.locator("#gold-rows tbody tr").nth(1)).to_contain_text("wrong")
    peru = next(
        g for g in server.call("GET", f"/api/tables/{table}/gold")["gold"] if g["values"]["country"] == "Peru"
    )
    page.get_by_role("button", name=f"remove gold row {peru['id']}").click()
    expect(panel.locator("#gold-rows tbody tr")).to_have_count(2)
    expect(page.locator("#notice")).to_be_hidden()
    page.get_by_label("screening gold rows").fill("5")
    page.get_by_role("button", name="Save screening").click()
    expect(page.locator("#notice")).to_contain_text("screening asks for 5 gold row(s) but the table has 2")
    page.get_by_label("screening gold rows").fill("1")
    page.get_by_label("screening pass fraction").fill("1")
    page.get_by_role("button", name="Save screening").click()
    expect(page.locator("#toasts")).to_contain_text("Screening set: 1 gold rows")
    assert server.call("GET", f"/api/tables/{table}/gold")["screening"] == {
        "gold_rows": 1,
        "pass_fraction": 1,
    }
    page.get_by_label("screening gold rows").fill("0")
    page.get_by_role("button", name="Save screening").click()
    expect(page.locator("#toasts")).to_contain_text("Screening off.")
    page.screenshot(path=str(screenshots / "gold-requester-panel.png"), full_page=True)
    server.call("POST", f"/api/tables/{table}/launch")
    page.reload()
    expect(page.locator("#gold-panel")).to_contain_text("can no longer change")
    expect(page.get_by_role("button", name="Add gold row")).to_have_count(0)

    gold = {g["values"]["country"]: g["id"] for g in server.call("GET", f"/api/tables/{table}/gold")["gold"]}
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    bob.fill(bob.row_with("France"), "capital", "Paris")
    bob.wait_until_saved()
    rome, paris = ann.row_with("Rome"), ann.row_with("Paris")
    expect(rome).to_have_count(1)
    expect(paris).to_have_count(1)
    # To Ann the gold row looks like the row Bob filled: the same id shape, markup and buttons.
    for row in (rome, paris):
        assert re.fullmatch(r"w-[0-9a-f]{24}", row.get_attribute("data-row-id") or "")
    assert rome.get_attribute("class") == paris.get_attribute("class")
    for part in ("td", "button.vote.up", "button.vote.down"):
        assert rome.locator(part).count() == paris.locator(part).count(), part
    assert "gold" not in rome.evaluate("node => node.outerHTML").lower()
    assert "gold" not in ann.page.content().lower()
    rome.locator("button.vote.up").click()
    expect(rome.locator(".my-vote.up")).to_have_count(1)
    ann.row_with("Barcelona").locator("button.vote.up").click()
    expect(ann.row_with("Barcelona").locator(".my-vote.up")).to_have_count(1)
    ann.page.screenshot(path=str(screenshots / "gold-worker-page.png"), full_page=True)

    monitor = new_context(browser, contexts, requester_token=server.token, viewport=VIEWPORT).new_page()
    monitor.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(monitor.locator("#connection")).to_have_text("Live")
    expect(monitor.locator("#gold")).to_be_visible()
    expect(monitor.locator(f'#gold-rows tr[data-gold-id="{gold["Italy"]}"] .gold-answer')).to_have_text(
        "ann: ▲ ✓ "
    )
    expect(monitor.locator(f'#gold-rows tr[data-gold-id="{gold["Spain"]}"] .gold-answer')).to_have_text(
        "ann: ▲ ✗ "
    )
    expect(monitor.locator("#candidates")).not_to_contain_text("Rome")
    monitor.screenshot(path=str(screenshots / "gold-monitor.png"), full_page=True)
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Gold answers (CSV)").click()
    exported = Path(downloaded.value.path()).read_text(encoding="utf-8")
    assert exported.splitlines()[0] == "gold_id,country,capital,verdict,use,worker_id,answer,right"
    assert f"{gold['Italy']},Italy,Rome,true,live,ann,up,true" in exported


def test_screening_lets_a_worker_who_answers_right_in_and_keeps_one_who_does_not_out(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    gold = [
        {"values": {"country": "Italy", "capital": "Rome"}, "verdict": True},
        {"values": {"country": "Spain", "capital": "Barcelona"}, "verdict": False},
        {"values": {"country": "Peru", "capital": "Lima"}, "verdict": True},
    ]
    definition = capitals_definition(
        rate_limit=FAST, gold=gold, screening={"gold_rows": 2, "pass_fraction": 1}
    )
    table = server.launched_table(definition)

    def answer(page_context: BrowserContext, right: bool) -> None:
        page = page_context.pages[0]
        questions = page.locator("#screening li.screening-row")
        expect(questions).to_have_count(2)
        for index in range(2):
            question = questions.nth(index)
            truth = "Rome" in question.inner_text()
            choice = "right" if truth == right else "wrong"
            question.get_by_label(choice).check()
        page.get_by_role("button", name="Send my answers").click()

    ann_context = new_context(browser, contexts, viewport=VIEWPORT)
    ann_page = ann_context.new_page()
    ann_page.goto(server.worker_link(table, "ann"))
    expect(ann_page.locator("#screening")).to_contain_text("Before you join")
    expect(ann_page.locator("#table")).to_be_hidden()
    ann_page.screenshot(path=str(screenshots / "screening-question.png"), full_page=True)
    answer(ann_context, right=True)
    expect(ann_page.locator("#connection")).to_have_text("Live")
    expect(ann_page.locator("#table tbody tr td.filled", has_text="Lima")).to_have_count(1)  # live gold row
    expect(ann_page.locator("#table")).not_to_contain_text("Rome")  # screening rows are held back

    bob_context = new_context(browser, contexts, viewport=VIEWPORT)
    bob_page = bob_context.new_page()
    link = server.worker_link(table, "bob")
    bob_page.goto(link)
    answer(bob_context, right=False)
    expect(bob_page.locator("#screening-message")).to_contain_text("Thank you for your time")
    expect(bob_page.locator("#connection")).to_have_text("Not admitted")
    bob_page.screenshot(path=str(screenshots / "screening-failed.png"), full_page=True)
    bob_page.goto(link)  # a new visit: told again, no second try
    expect(bob_page.locator("#screening-message")).to_contain_text("you will not be asked again")
    expect(bob_page.locator("#screening-submit")).to_have_count(0)
    outcomes = {
        w["worker_id"]: w["screening"] for w in server.call("GET", f"/api/tables/{table}/workers")["workers"]
    }
    assert outcomes == {
        "ann": {"status": "passed", "right": 2, "asked": 2},
        "bob": {"status": "failed", "right": 0, "asked": 2},
    }
