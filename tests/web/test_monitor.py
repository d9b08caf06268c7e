"""The data monitor follows the workers live: counts, scores, colours, the template matching."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.web.support import Requester, capitals_definition, new_context, open_worker

pytestmark = pytest.mark.browser


def _monitor(browser: Browser, contexts: list[BrowserContext], server: Requester, table: str) -> Page:
    viewport = {"width": 1200, "height": 900}
    page = new_context(browser, contexts, requester_token=server.token, viewport=viewport).new_page()
    page.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(page.locator("#connection")).to_have_text("Live")
    return page


def _candidate(monitor: Page, text: str) -> Locator:
    return monitor.locator("#candidates tbody tr").filter(
        has=monitor.get_by_role("cell", name=text, exact=True)
    )


def _expect_row(row: Locator, *, up: int, down: int, score: int, status: str) -> None:
    expect(row).to_have_count(1)
    expect(row.locator("td.up")).to_have_text(str(up))
    expect(row.locator("td.down")).to_have_text(str(down))
    expect(row.locator("td.score")).to_have_text(str(score))
    expect(row).to_have_attribute("data-status", status)
    expect(row).to_have_class(f"status-{status}")


def test_the_monitor_shows_counts_colours_and_matching_change_as_workers_vote(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table()  # scoring: difference (score = up - down)
    monitor = _monitor(browser, contexts, server, table)
    ann = open_worker(
        browser, contexts, server.worker_link(table, "ann"), viewport={"width": 1100, "height": 720}
    )
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"))

    # At launch the central client inserted the template's rows: scoreless, blue.
    _expect_row(_candidate(monitor, "France"), up=0, down=0, score=0, status="blue")
    expect(monitor.locator("#workers-online")).to_have_text("2")
    expect(monitor.locator("#spend")).to_contain_text("/ $5.00")

    # Ann completes France: her fill upvotes it, so it scores 1 and is green, and serves T1.
    ann.fill(ann.row_with("France"), "capital", "Paris")
    paris = _candidate(monitor, "Paris")
    _expect_row(paris, up=1, down=0, score=1, status="green")
    expect(monitor.locator('#matching tr[data-position="0"]')).to_contain_text("Paris")

    # Bob upvotes it too.
    bob.row_with("Paris").locator("button.vote.up").click()
    _expect_row(paris, up=2, down=0, score=2, status="green")

    # Ann fills the empty template row with a country that does not exist; Bob downvotes it:
    # the row turns red, and the central client adds a fresh empty row for the template's T2.
    ann.fill(ann.empty_rows().first, "country", "Atlantis")
    atlantis = _candidate(monitor, "Atlantis")
    _expect_row(atlantis, up=0, down=0, score=0, status="blue")
    expect(monitor.locator('#matching tr[data-position="1"]')).to_contain_text("Atlantis")
    bob.row_with("Atlantis").locator("button.vote.down").click()
    _expect_row(atlantis, up=0, down=1, score=-1, status="red")
    expect(monitor.locator('#matching tr[data-position="1"]')).not_to_contain_text("Atlantis")
    expect(monitor.locator('#matching tr[data-position="1"]')).to_have_attribute("data-matched", "yes")
    expect(bob.empty_rows()).to_have_count(1)

    monitor.screenshot(path=str(screenshots / "monitor.png"), full_page=True)
    ann.page.screenshot(path=str(screenshots / "worker-page-with-votes.png"), full_page=True)


def test_a_template_row_waits_for_votes_while_a_rival_row_of_its_key_scores_higher(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    definition = capitals_definition(template=[{"country": "France", "capital": "Paris"}, {}])
    table = server.launched_table(definition)
    monitor = _monitor(browser, contexts, server, table)
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"))
    t1 = monitor.locator('#matching tr[data-position="0"]')

    # Ann builds a rival France row with another capital; completing it upvotes it for her.
    ann.fill(ann.empty_rows().first, "country", "France")
    partial = ann.row_with("France").filter(has=ann.page.locator('.cell-editor[data-column="capital"]'))
    ann.fill(partial, "capital", "Lyon")

    _expect_row(_candidate(monitor, "Lyon"), up=1, down=0, score=1, status="green")
    _expect_row(_candidate(monitor, "Paris"), up=0, down=0, score=0, status="yellow")
    expect(t1).to_have_attribute("data-matched", "waiting")
    expect(t1).to_contain_text("waiting for votes")

    # Bob sides with Paris: the rows swap colours and the template row is served again.
    bob.row_with("Paris").locator("button.vote.up").click()
    bob.row_with("Lyon").locator("button.vote.down").click()

    _expect_row(_candidate(monitor, "Paris"), up=1, down=0, score=1, status="green")
    _expect_row(_candidate(monitor, "Lyon"), up=1, down=1, score=0, status="yellow")
    expect(t1).to_have_attribute("data-matched", "yes")
    expect(t1).to_contain_text("Paris")


def test_the_monitor_takes_its_columns_from_the_pushed_schema_without_another_request(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    # Only an empty template row: no row values from which the columns could be guessed.
    table = server.launched_table(capitals_definition(template=[{}]))
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(page.locator("#connection")).to_have_text("Live")

    expect(page.locator("#candidates thead th")).to_have_text(
        ["country", "capital", "↑ up", "↓ down", "score", "status", "template", "final", "history"]
    )
    expect(page.locator("#matching thead th")).to_have_text(
        ["template row", "country", "capital", "served by"]
    )
    assert not [url for url in requested if "/api/" in url]


def test_the_monitor_of_an_unknown_table_says_so(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    page.goto(f"{server.base_url}/tables/t-missing/monitor")

    expect(page.locator("#notice")).to_contain_text("There is no table with this id")


def test_the_monitor_asks_again_for_a_requester_token_the_server_refuses(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    page = new_context(browser, contexts, requester_token="not-the-token").new_page()
    page.goto(f"{server.base_url}/tables/{table}/monitor")

    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("not accepted")
