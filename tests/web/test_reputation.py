"""Reputation in the pages: the monitor shows each worker's estimate, a quarantined worker sees
the banner, and the requester excludes a worker from the monitor (and undoes it) as scores change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from crowdfill.model import Values
from crowdfill.server.definition import TableSpec
from tests.support.live_server import live_server
from tests.web.support import Requester, capitals_definition, new_context, open_worker

pytestmark = pytest.mark.browser

LYON_IS_FRANCE = frozenset({("country", "France"), ("capital", "Lyon")})


@pytest.fixture(scope="module")
def gold_server() -> Iterator[Requester]:
    """A server of its own whose tables' gold says France's capital is not Lyon."""
    with live_server() as live:

        def verdicts(spec: TableSpec) -> dict[Values, bool]:
            return {LYON_IS_FRANCE: False}

        live.app.reputation.gold = verdicts
        requester = Requester(live.base_url, live.settings.requester_token)
        try:
            yield requester
        finally:
            requester.client.close()


def _monitor(browser: Browser, contexts: list[BrowserContext], server: Requester, table: str) -> Page:
    page = new_context(
        browser, contexts, requester_token=server.token, viewport={"width": 1200, "height": 1000}
    )
    monitor = page.new_page()
    monitor.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(monitor.locator("#connection")).to_have_text("Live")
    return monitor


def _candidate(monitor: Page, text: str) -> Locator:
    return monitor.locator("#candidates tbody tr").filter(
        has=monitor.get_by_role("cell", name=text, exact=True)
    )


def test_quarantine_and_exclusion_show_on_the_monitor_and_the_workers_pages(
    gold_server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    server = gold_server
    table = server.launched_table(
        capitals_definition(
            scoring={"family": "reputation", "min_votes": 1},
            template=[{"country": "France"}, {}, {}],
            quality={"floor": 0.6, "every_ops": 1, "every_seconds": 0},
            rate_limit={"ops_per_second": 1000, "burst": 1000},
        )
    )
    monitor = _monitor(browser, contexts, server, table)
    mallory = open_worker(browser, contexts, server.worker_link(table, "mallory"))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    expect(mallory.page.locator("#standing-banner")).to_be_hidden()

    # Mallory says Lyon; gold says it is wrong: the server quarantines her with a reweigh.
    mallory.fill(mallory.row_with("France"), "capital", "Lyon")
    banner = mallory.page.locator("#standing-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Your votes no longer count")
    expect(ann.page.locator("#standing-banner")).to_be_hidden()
    reputation = monitor.locator("#reputation tbody tr")
    mallory_row = reputation.filter(has=monitor.get_by_role("cell", name="mallory", exact=True))
    expect(mallory_row).to_have_attribute("data-status", "quarantined")
    expect(mallory_row.locator("td.evidence")).to_have_text("1 (1)")
    expect(mallory_row.locator("td.weight")).to_have_text("0.00")
    expect(_candidate(monitor, "Lyon").locator("td.score")).to_have_text("0")

    # Ann completes Spain: her fill's upvote makes it final (one vote is enough here).
    ann.fill(ann.empty_rows().first, "country", "Spain")
    ann.fill(ann.row_with("Spain"), "capital", "Madrid")
    madrid = _candidate(monitor, "Madrid")
    expect(madrid.locator("td.score")).to_have_text("1")
    expect(madrid).to_have_attribute("data-status", "green")
    ann_row = reputation.filter(has=monitor.get_by_role("cell", name="ann", exact=True))
    # Her upvote agrees with the final table: Beta(4 + 1, 1) has mean 5/6.
    expect(ann_row.locator("td.estimate")).to_have_text("0.83")
    expect(ann_row.locator("td.evidence")).to_have_text("1 (0)")
    monitor.screenshot(path=str(screenshots / "monitor-reputation.png"), full_page=True)

    # The requester excludes Ann from the monitor: her vote stops counting and she is told.
    ann_row.get_by_role("button", name="exclude worker ann").click()
    expect(ann_row).to_have_attribute("data-status", "excluded")
    expect(madrid.locator("td.score")).to_have_text("0")
    expect(madrid).to_have_attribute("data-status", "blue")
    expect(ann.page.locator("#standing-banner")).to_contain_text("excluded you")
    expect(ann.page.locator("#standing-banner")).to_contain_text("will not be paid")
    expect(ann.page.locator("#pay-total")).to_have_text("$0.00")
    ann.page.screenshot(path=str(screenshots / "worker-excluded.png"), full_page=True)

    # ...and undoes it: the log keeps both reweighs, and everything counts again.
    ann_row.get_by_role("button", name="undo the exclusion of worker ann").click()
    expect(ann_row).to_have_attribute("data-status", "counted")
    expect(madrid.locator("td.score")).to_have_text("1")
    expect(ann.page.locator("#standing-banner")).to_be_hidden()
    log = server.call("GET", f"/api/tables/{table}/log")["ops"]
    assert [entry["op"].get("excluded", False) for entry in log if entry["op"]["type"] == "reweigh"][-2:] == [
        True,
        False,
    ]
