"""Workers who arrive from MTurk or Prolific: preview, submit back to the market."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.web.support import (
    FormRecorder,
    Requester,
    WorkerPage,
    capitals_definition,
    new_context,
    open_worker,
)

pytestmark = pytest.mark.browser


def test_an_mturk_preview_shows_the_table_read_only_with_a_notice(
    server: Requester, browser: Browser, contexts: list[BrowserContext], mturk_endpoint: FormRecorder
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    ann.wait_until_saved()
    query = urlencode(
        {
            "assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE",
            "hitId": "HIT1",
            "turkSubmitTo": mturk_endpoint.url,
        }
    )
    page = new_context(browser, contexts).new_page()
    page.goto(f"{server.base_url}/w/{table}?{query}")

    expect(page.locator("#notice")).to_contain_text("Preview")
    expect(page.locator("#instructions-text")).to_contain_text("Name the capital")
    expect(page.locator("#table thead")).to_contain_text("capital")
    # The table as it stands now (the filled France row and the template's empty row), read-only.
    preview = WorkerPage(page)
    expect(preview.rows).to_have_count(2)
    expect(preview.row_with("Paris").locator("td.filled")).to_have_text(["France", "Paris"])
    expect(preview.empty_rows()).to_have_count(1)
    expect(page.locator("#connection")).to_have_text("Preview")
    expect(page.locator("#table .cell-editor")).to_have_count(0)
    expect(page.locator("#table button.vote")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit HIT")).to_be_disabled()
    assert mturk_endpoint.forms == []


def test_an_mturk_worker_submits_the_hit_to_turk_submit_to(
    server: Requester, browser: Browser, contexts: list[BrowserContext], mturk_endpoint: FormRecorder
) -> None:
    table = server.launched_table()
    signed = server.call("POST", f"/api/tables/{table}/recruit-urls", {"platform": "mturk"})["query"]
    query = urlencode(
        {
            **signed,
            "assignmentId": "ASSIGN42",
            "hitId": "HIT1",
            "workerId": "AWORKER7",
            "turkSubmitTo": mturk_endpoint.url,
        }
    )
    worker = open_worker(browser, contexts, f"{server.base_url}/w/{table}?{query}")
    worker.fill(worker.row_with("France"), "capital", "Paris")
    worker.wait_until_saved()

    worker.page.get_by_role("button", name="Submit HIT").click()

    expect(worker.page.locator("h1")).to_have_text("HIT submitted")
    [(path, form)] = mturk_endpoint.forms
    assert path == "/mturk/externalSubmit"
    assert form["assignmentId"] == "ASSIGN42"
    assert form["table_id"] == table
    assert form["actions"] == "1"


def test_a_prolific_participant_finishes_on_the_studys_completion_url(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table(capitals_definition(prolific_completion_code="C0DE42"))
    context = new_context(browser, contexts)
    arrived: list[str] = []

    def prolific(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Prolific: study complete</h1>")

    context.route(re.compile(r"^https://app\.prolific\.com/"), prolific)
    signed = server.call(
        "POST", f"/api/tables/{table}/recruit-urls", {"platform": "prolific", "study_id": "st1"}
    )
    query = urlencode({**signed["query"], "PROLIFIC_PID": "pp1", "STUDY_ID": "st1", "SESSION_ID": "se1"})
    worker = WorkerPage.open(context, f"{server.base_url}/w/{table}?{query}")
    expect(worker.row_with("France")).to_have_count(1)

    worker.page.get_by_role("button", name="Finish and return to Prolific").click()

    expect(worker.page.locator("h1")).to_have_text("Prolific: study complete")
    assert arrived == ["https://app.prolific.com/submissions/complete?cc=C0DE42"]


def test_an_mturk_worker_id_typed_into_an_unsigned_url_gets_no_session(
    server: Requester, browser: Browser, contexts: list[BrowserContext], mturk_endpoint: FormRecorder
) -> None:
    table = server.launched_table()
    query = urlencode(
        {
            "assignmentId": "ASSIGN9",
            "hitId": "HIT1",
            "workerId": "INVENTED9",
            "turkSubmitTo": mturk_endpoint.url,
        }
    )
    page = new_context(browser, contexts).new_page()
    page.goto(f"{server.base_url}/w/{table}?{query}")

    expect(page.locator("#notice")).to_contain_text("not opened from the requester's published link")
    workers = server.call("GET", f"/api/tables/{table}/workers")["workers"]
    assert [w["worker_id"] for w in workers] == []
