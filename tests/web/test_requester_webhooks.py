"""The requester page's webhooks panel: register a URL, see its deliveries, delete it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.support.receiver import Receiver
from tests.web.support import Requester, capitals_definition, new_context, wait_until

pytestmark = pytest.mark.browser


def test_a_requester_adds_a_webhook_reads_its_delivery_log_and_deletes_it(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        table = server.call("POST", "/api/tables", capitals_definition())["id"]
        page = new_context(browser, contexts, requester_token=server.token).new_page()
        page.goto(f"{server.base_url}/#table={table}")
        expect(page.locator("#status-badge")).to_have_text("draft")
        panel = page.locator("#webhooks-panel")
        expect(panel.locator("#webhooks")).to_contain_text("No webhooks.")

        page.get_by_label("webhook URL").fill("ftp://example.org/hook")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#notice")).to_contain_text("http:// or https://")

        page.get_by_label("webhook URL").fill(receiver.url)
        page.get_by_role("button", name="Add webhook").click()
        expect(panel.locator("#webhooks tbody tr")).to_have_count(1)
        expect(panel.locator(".hook-url")).to_have_text(receiver.url)
        (hook,) = server.call("GET", f"/api/tables/{table}/webhooks")["webhooks"]
        expect(page.get_by_label(f"signing secret of {receiver.url}")).to_have_value(hook["secret"])

        server.call("POST", f"/api/tables/{table}/launch")
        wait_until(page, lambda: len(receiver.accepted()) == 1, "the receiver got the launch")
        page.get_by_role("button", name=f"deliveries of {receiver.url}").click()
        log = page.locator("#webhook-delivery-log tbody tr")
        expect(log).to_have_count(1)
        expect(log.first).to_contain_text("table.launched")
        expect(log.first).to_contain_text("delivered")
        expect(log.first).to_contain_text("HTTP 200")
        assert log.first.get_attribute("data-event-id") == receiver.events()[0]["id"]

        page.get_by_role("button", name=f"delete the webhook {receiver.url}").click()
        expect(panel.locator("#webhooks")).to_contain_text("No webhooks.")
        assert server.call("GET", f"/api/tables/{table}/webhooks")["webhooks"] == []
    finally:
        receiver.stop()
