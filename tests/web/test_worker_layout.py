"""The worker's table stays usable: long values, many rows, a phone, a choice list, a partial row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.web.support import Requester, capitals_definition, open_worker

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1100, "height": 720}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def three_columns(**changes: Any) -> dict[str, Any]:
    changes.setdefault("template", [{"country": "France"}, {"country": "Japan"}])
    return capitals_definition(
        schema={
            "columns": [
                {"name": "country", "type": "text"},
                {"name": "capital", "type": "text"},
                {"name": "continent", "type": "text", "domain": ["Africa", "Asia", "Europe"]},
            ],
            "key": ["country"],
        },
        **changes,
    )


def test_one_long_value_wraps_in_its_cell_and_the_table_keeps_its_width(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(three_columns())
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    expect(bob.rows).to_have_count(2)
    width_before = bob.page.locator("#table").bounding_box()
    assert width_before is not None
    long_value = "Paris " + "x" * 994  # 1,000 characters
    ann.fill(ann.row_with("France"), "capital", long_value)

    cell = bob.row_with("France").locator("td.filled .value").nth(1)
    expect(cell).to_have_attribute("title", long_value)
    width_after = bob.page.locator("#table").bounding_box()
    assert width_after is not None
    assert width_after["width"] == width_before["width"]  # the columns did not move
    # The vote buttons stay on screen, and the value is clamped to a few lines.
    votes = bob.row_with("Japan").locator("td.votes")
    box = votes.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= VIEWPORT["width"]
    height = cell.evaluate("node => node.getBoundingClientRect().height")
    line = cell.evaluate("node => parseFloat(getComputedStyle(node).lineHeight)")
    assert height <= 3.5 * line
    bob.page.screenshot(path=str(screenshots / "worker-long-value.png"), full_page=True)
    # Focus shows the whole value.
    cell.focus()
    expect(cell).to_be_focused()
    assert cell.evaluate("node => node.getBoundingClientRect().height") > height
    bob.page.screenshot(path=str(screenshots / "worker-long-value-focused.png"))


def test_the_header_stays_in_view_while_the_rows_scroll(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    template = [{"country": f"Country {n}"} for n in range(40)]
    table = server.launched_table(three_columns(template=template))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    expect(ann.rows).to_have_count(40)
    header = ann.page.locator("#table thead th").nth(1)
    expect(header).to_be_visible()
    top = "node => node.getBoundingClientRect().top"
    top_before = header.evaluate(top)
    ann.page.locator(".table-wrap").evaluate("node => node.scrollBy(0, 900)")
    top_after = header.evaluate(top)
    assert top_after == top_before
    assert ann.rows.first.evaluate(top) < top_after  # the rows moved under it
    ann.page.screenshot(path=str(screenshots / "worker-sticky-header.png"))


def test_a_phone_shows_each_row_as_a_card_with_every_column(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(three_columns())
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), **PHONE)
    france = ann.row_with("France")
    for column in ("country", "capital", "continent"):
        cell = france.locator(f'td[data-label="{column}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    ann.fill(france, "capital", "Paris")
    ann.wait_until_saved()
    expect(ann.row_with("Paris").locator('td[data-label="vote"]')).to_be_visible()
    assert ann.page.evaluate("document.documentElement.scrollWidth") <= 390
    ann.page.screenshot(path=str(screenshots / "worker-phone.png"), full_page=True)


def test_a_choice_is_saved_only_when_confirmed(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(three_columns())
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    france = ann.row_with("France")
    choice = ann.editor(france, "continent")
    choice.select_option("Asia")  # a mis-click: nothing is sent
    ann.page.wait_for_timeout(300)  # a save would be on its way by now; none may arrive
    assert all("continent" not in row["values"] for row in server.candidates(table))
    choice.select_option("Europe")
    france.get_by_role("button", name="Save continent").click()
    expect(ann.row_with("Europe")).to_have_count(1)
    japan = ann.row_with("Japan")
    ann.editor(japan, "continent").select_option("Asia")
    ann.editor(japan, "continent").press("Enter")
    expect(ann.row_with("Asia")).to_have_count(1)
    ann.page.screenshot(path=str(screenshots / "worker-choice-confirmed.png"))


def test_a_partial_row_says_why_it_cannot_be_upvoted(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table(three_columns())
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    france = ann.row_with("France")
    expect(france.locator("td.votes .vote-why")).to_have_text("upvote when complete")
    expect(france.locator("button.vote.up")).to_have_count(0)
    ann.page.screenshot(path=str(screenshots / "worker-why-no-upvote.png"))


def test_a_worker_searches_filters_sorts_counts_and_jumps_to_rows_needing_a_vote(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    template = [{"country": name} for name in ("Peru", "Chile", "Kenya", "Egypt")]
    table = server.launched_table(capitals_definition(template=template))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    ann.fill(ann.row_with("Peru"), "capital", "Lima")
    ann.fill(ann.row_with("Kenya"), "capital", "Nairobi")
    ann.wait_until_saved()
    expect(bob.row_with("Nairobi")).to_have_count(1)
    counts = bob.page.locator("#row-counts")
    expect(counts).to_have_text("4 rows · 2 complete · 2 with empty cells · 2 need my vote")

    bob.page.locator("#row-search").fill("ken")
    expect(bob.rows.locator("visible=true")).to_have_count(1)
    expect(counts).to_contain_text("1 shown")
    bob.page.locator("#row-search").fill("")
    bob.page.locator("#row-filter").select_option("vote")
    expect(bob.rows.locator("visible=true")).to_have_count(2)
    bob.page.locator("#row-filter").select_option("all")

    bob.page.locator("#row-sort").select_option(label="country A→Z")
    expect(bob.rows.locator("td.filled:first-of-type")).to_have_text(["Chile", "Egypt", "Kenya", "Peru"])
    bob.page.locator("#row-sort").select_option(label="country Z→A")
    expect(bob.rows.locator("td.filled:first-of-type")).to_have_text(["Peru", "Kenya", "Egypt", "Chile"])

    bob.page.get_by_role("button", name="Next row needing my vote").click()
    focused = bob.page.locator("button.vote.up:focus")
    expect(focused).to_have_count(1)
    bob.page.screenshot(path=str(screenshots / "worker-row-tools.png"))
    focused.click()
    expect(counts).to_contain_text("1 needs my vote")
