"""The live pages use a WebSocket from the first packet, and show a batch of forwards in one frame."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, WebSocket, expect

from tests.support.live_server import live_server, test_settings
from tests.web.support import (
    Requester,
    SocketTap,
    WorkerPage,
    capitals_definition,
    new_context,
    open_worker,
)

pytestmark = pytest.mark.browser


def _record_transports(page: Page) -> tuple[list[str], list[str]]:
    """The page's long-polling requests and the WebSockets it opened (their URLs), as they happen."""
    polled: list[str] = []
    sockets: list[str] = []

    def requested(request: Request) -> None:
        if "transport=polling" in request.url:
            polled.append(request.url)

    def opened(socket: WebSocket) -> None:
        sockets.append(socket.url)

    page.on("request", requested)
    page.on("websocket", opened)
    return polled, sockets


def test_the_worker_page_talks_over_a_websocket_from_the_start_without_long_polling(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    page = new_context(browser, contexts).new_page()
    polled, sockets = _record_transports(page)
    page.goto(server.worker_link(table, "ann"))
    expect(page.locator("#connection")).to_have_text("Live")
    expect(WorkerPage(page).row_with("France")).to_have_count(1)
    assert polled == []
    assert len(sockets) == 1
    assert "transport=websocket" in sockets[0]
    assert "sid=" not in sockets[0]  # not an upgrade of a polling session


def test_the_monitor_talks_over_a_websocket_from_the_start_without_long_polling(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    page = new_context(browser, contexts, requester_token=server.token).new_page()
    polled, sockets = _record_transports(page)
    page.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(page.locator("#connection")).to_have_text("Live")
    assert polled == []
    assert ["transport=websocket" in url for url in sockets] == [True]


def test_a_browser_without_websockets_gets_the_worker_page_over_long_polling(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    page = new_context(browser, contexts).new_page()
    page.add_init_script("delete window.WebSocket;")
    polled, sockets = _record_transports(page)
    page.goto(server.worker_link(table, "bob"))
    bob = WorkerPage(page)
    expect(page.locator("#connection")).to_have_text("Live")
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(bob.row_with("Paris")).to_have_count(1)
    assert polled != []
    assert sockets == []


@pytest.fixture(scope="module")
def lingering() -> Iterator[Requester]:
    """A server whose table owners wait 0.5 s before taking a batch: fills made together are one batch."""
    with live_server(test_settings(batch_linger_seconds=0.5)) as live:
        requester = Requester(live.base_url, live.settings.requester_token)
        try:
            yield requester
        finally:
            requester.client.close()


def test_a_worker_page_shows_every_row_of_a_batch_that_arrives_in_one_frame(
    lingering: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    # Italy stays open, so the two fills below do not complete the table.
    template = [{"country": "France"}, {"country": "Spain"}, {"country": "Italy"}]
    table = lingering.launched_table(capitals_definition(template=template))
    ann = open_worker(browser, contexts, lingering.worker_link(table, "ann"))
    bob = open_worker(browser, contexts, lingering.worker_link(table, "bob"))
    page = new_context(browser, contexts).new_page()
    tap = SocketTap(page)
    received: list[str] = []

    def tap_frames(socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: received.append(str(frame)))

    page.on("websocket", tap_frames)
    page.goto(lingering.worker_link(table, "cat"))
    cat = WorkerPage(page)
    expect(page.locator("#connection")).to_have_text("Live")
    tap.wait_for_upgrade()

    ann.fill(ann.row_with("France"), "capital", "Paris")
    bob.fill(bob.row_with("Spain"), "capital", "Madrid")

    expect(cat.row_with("Paris")).to_have_count(1)
    expect(cat.row_with("Madrid")).to_have_count(1)
    batches = [frame for frame in received if frame.startswith('42/worker,["ops"')]
    assert len(batches) == 1, received
    assert "from_seq" not in batches[0]
    ann.wait_until_saved()
    bob.wait_until_saved()
