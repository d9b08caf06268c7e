"""Helpers for the browser tests: REST calls to the live server and page objects for the pages."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect

_names = itertools.count(1)


def capitals_definition(**changes: Any) -> dict[str, Any]:
    """A two-column table: filling a capital completes a row (and upvotes it for the filler)."""
    definition: dict[str, Any] = {
        "name": f"Capitals {next(_names)}",
        "instructions": "Name the capital of each country.\nUpvote rows you know are right.",
        "schema": {
            "columns": [{"name": "country", "type": "text"}, {"name": "capital", "type": "text"}],
            "key": ["country"],
        },
        "scoring": {"family": "difference"},
        "template": [{"country": "France"}, {}],
        "budget_cents": 500,
    }
    definition.update(changes)
    return definition


def new_context(
    browser: Browser, contexts: list[BrowserContext], *, requester_token: str | None = None, **options: Any
) -> BrowserContext:
    """A fresh browser context (its own storage, like a separate person), closed by the ``contexts``
    fixture after the test.

    ``requester_token`` is stored as if the requester had entered it on an earlier visit, so the
    requester and monitor pages open without asking; ``options`` go to ``Browser.new_context``.
    """
    context = browser.new_context(**options)
    contexts.append(context)
    if requester_token is not None:
        context.add_init_script(
            f"localStorage.setItem('crowdfill.requesterToken', {json.dumps(requester_token)})"
        )
    return context


class Requester:
    """The requester's side of a running server, over REST."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def launched_table(self, definition: dict[str, Any] | None = None) -> str:
        table = self.call("POST", "/api/tables", definition or capitals_definition())
        self.call("POST", f"/api/tables/{table['id']}/launch")
        table_id: str = table["id"]
        return table_id

    def worker_link(self, table_id: str, worker_id: str) -> str:
        """A worker link as a path on this server (the server may print another host name)."""
        link = self.call("POST", f"/api/tables/{table_id}/links", {"worker_id": worker_id})
        parts = urlsplit(link["url"])
        return f"{self.base_url}{parts.path}?{parts.query}"

    def candidates(self, table_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.call("GET", f"/api/tables/{table_id}/candidates")["rows"]
        return rows


class WorkerPage:
    """A worker's page: the shared table, as a person would use it."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @classmethod
    def open(cls, context: BrowserContext, url: str) -> WorkerPage:
        page = context.new_page()
        page.goto(url)
        worker = cls(page)
        expect(page.locator("#connection")).to_have_text("Live")
        return worker

    @property
    def rows(self) -> Locator:
        return self.page.locator("#table tbody tr[data-row-id]")

    def row_with(self, text: str) -> Locator:
        """The rows showing `text` in a filled cell."""
        return self.rows.filter(
            has=self.page.locator("td.filled", has_text=re.compile(f"^{re.escape(text)}$"))
        )

    def empty_rows(self) -> Locator:
        return self.rows.filter(has_not=self.page.locator("td.filled"))

    def editor(self, row: Locator, column: str) -> Locator:
        return row.locator(f'.cell-editor[data-column="{column}"]')

    def type_into(self, row: Locator, column: str, value: str) -> Locator:
        editor = self.editor(row, column)
        editor.click()
        editor.fill(value)
        return editor

    def fill(self, row: Locator, column: str, value: str) -> None:
        self.type_into(row, column, value).press("Enter")

    def wait_until_saved(self) -> None:
        expect(self.page.locator("#table tbody tr.pending")).to_have_count(0)


class SocketTap:
    """Routes a page's Socket.IO WebSocket through the test, which can hold frames in either
    direction (to make two workers' actions truly simultaneous, or to let the server change
    before the page hears of it) or cut the connection."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.holding_out = False
        self.holding_in = False
        self.held_out: list[tuple[WebSocketRoute, str | bytes]] = []
        self.held_in: list[tuple[WebSocketRoute, str | bytes]] = []
        self.routes: list[WebSocketRoute] = []
        self.sent: list[str] = []  # every text frame the page sent over the WebSocket
        self.upgraded = False
        page.route_web_socket(re.compile(r"/socket\.io/"), self._route)

    def _route(self, route: WebSocketRoute) -> None:
        server = route.connect_to_server()
        self.routes.append(route)
        if "sid=" not in route.url:
            # Opened straight away (the pages' default), not as an upgrade of a polling session:
            # every packet uses this WebSocket from the first one.
            self.upgraded = True

        def outgoing(message: str | bytes) -> None:
            if message == "5":  # Engine.IO "upgrade": from now on every packet uses this WebSocket
                self.upgraded = True
            if isinstance(message, str):
                self.sent.append(message)
            if self.holding_out:
                self.held_out.append((server, message))
            else:
                server.send(message)

        def incoming(message: str | bytes) -> None:
            if self.holding_in:
                self.held_in.append((route, message))
            else:
                route.send(message)

        route.on_message(outgoing)
        server.on_message(incoming)

    def wait_for_upgrade(self) -> None:
        wait_until(self.page, lambda: self.upgraded, "the page's Socket.IO connection to use the WebSocket")

    def hold_outgoing(self) -> None:
        self.holding_out = True

    def hold_incoming(self) -> None:
        self.holding_in = True

    def release(self) -> None:
        """Deliver everything held, in order, and stop holding."""
        self.holding_out = self.holding_in = False
        for target, message in [*self.held_out, *self.held_in]:
            target.send(message)
        self.held_out.clear()
        self.held_in.clear()

    def cut(self) -> None:
        """Close the page's WebSocket as a network failure would."""
        self.upgraded = False
        for route in self.routes:
            route.close(code=1001, reason="cut by the test")
        self.routes.clear()


def open_worker(browser: Browser, contexts: list[BrowserContext], url: str, **options: Any) -> WorkerPage:
    """A live worker page for ``url`` in a fresh context (``options`` as for ``new_context``)."""
    return WorkerPage.open(new_context(browser, contexts, **options), url)


def tapped_worker(
    browser: Browser, contexts: list[BrowserContext], url: str, **options: Any
) -> tuple[WorkerPage, SocketTap]:
    """A worker page in a fresh context, live, with its Socket.IO WebSocket running through a tap.

    Returns once the connection has moved to the WebSocket, so everything after goes through the tap.
    """
    page = new_context(browser, contexts, **options).new_page()
    tap = SocketTap(page)
    page.goto(url)
    worker = WorkerPage(page)
    expect(page.locator("#connection")).to_have_text("Live")
    tap.wait_for_upgrade()
    return worker, tap


def wait_until(page: Page, condition: Callable[[], bool], what: str, timeout_ms: int = 10_000) -> None:
    """Wait for a condition on the test's side while letting Playwright deliver its events."""
    waited = 0
    while not condition():
        if waited >= timeout_ms:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(25)
        waited += 25


class FormRecorder:
    """A stand-in for MTurk's externalSubmit endpoint: records every form posted to it."""

    def __init__(self) -> None:
        self.forms: list[tuple[str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                fields = {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}
                recorder.forms.append((self.path, fields))
                page = b"<!doctype html><title>Submitted</title><h1>HIT submitted</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: object) -> None:
                del format, args  # keep test output quiet

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
