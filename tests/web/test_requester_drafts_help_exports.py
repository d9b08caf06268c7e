"""The requester page, round two: delete a draft, help text per column, exports in every format."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from crowdfill.export.fields import export_fields
from crowdfill.export.formats import read
from tests.web.support import Requester, capitals_definition, new_context, open_worker

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Markup in the help must reach the worker as the characters the requester typed.
HELP = "The city where the <b>government</b> sits, e.g. Bern"


def requester_page(
    browser: Browser, contexts: list[BrowserContext], server: Requester, **options: object
) -> Page:
    context = new_context(browser, contexts, requester_token=server.token, **options)
    return context.new_page()


def test_a_draft_is_deleted_after_a_confirmation_and_a_launched_table_has_no_delete(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    draft = server.call("POST", "/api/tables", capitals_definition(name="Typo'd draft"))["id"]
    server.launched_table(capitals_definition(name="Running table"))
    page = requester_page(browser, contexts, server)
    page.goto(f"{server.base_url}/#table={draft}")
    expect(page.locator("#status-badge")).to_have_text("draft")

    page.locator("#delete-draft").click()
    confirm = page.locator("#delete-confirm")
    expect(confirm).to_contain_text('Delete the draft "Typo\'d draft"?')
    expect(confirm).to_contain_text("cannot be undone")
    page.screenshot(path=str(screenshots / "requester-delete-draft.png"))
    page.locator("#delete-cancel").click()
    expect(confirm).to_have_count(0)
    assert server.client.get(f"/api/tables/{draft}").status_code == 200  # "Keep it" kept it

    page.locator("#delete-draft").click()
    page.locator("#delete-confirmed").click()
    expect(page.locator("#toasts")).to_contain_text("Deleted the draft Typo'd draft.")
    expect(page.locator("#overview")).to_be_visible()
    expect(page.locator("#table-list")).not_to_contain_text("Typo'd draft")
    assert server.client.get(f"/api/tables/{draft}").status_code == 404

    page.locator("#table-list").get_by_role("button", name="Running table").click()
    expect(page.locator("#status-badge")).to_have_text("live")
    expect(page.locator("#delete-draft")).to_have_count(0)


def test_help_written_for_a_column_is_shown_to_workers_as_text_on_desktop_and_phone(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    draft = server.call("POST", "/api/tables", capitals_definition(name="Capitals with help"))["id"]
    page = requester_page(browser, contexts, server)
    page.goto(f"{server.base_url}/#table={draft}")
    page.get_by_label("column 2 help for workers").fill(HELP)
    page.locator("#save").click()
    expect(page.locator("#toasts")).to_contain_text("Table saved.")
    (capital,) = [
        c
        for c in server.call("GET", f"/api/tables/{draft}")["definition"]["schema"]["columns"]
        if c["name"] == "capital"
    ]
    assert capital["help"] == HELP
    page.reload()
    expect(page.get_by_label("column 2 help for workers")).to_have_value(HELP)
    page.screenshot(path=str(screenshots / "requester-column-help.png"), full_page=True)
    server.call("POST", f"/api/tables/{draft}/launch")

    ann = open_worker(browser, contexts, server.worker_link(draft, "ann"))
    header = ann.page.locator("#table thead th", has=ann.page.locator(".colname", has_text="capital"))
    expect(header.locator(".col-help-text")).to_have_text(HELP)
    expect(ann.page.locator("#table b")).to_have_count(0)  # no markup was parsed
    ann.page.screenshot(path=str(screenshots / "worker-column-help.png"))

    phone = open_worker(browser, contexts, server.worker_link(draft, "pat"), **PHONE)
    cell = phone.row_with("France").locator('td[data-label="capital"]')
    expect(cell.locator(".col-help-text")).to_be_visible()
    expect(cell.locator(".col-help-text")).to_have_text(HELP)
    box = cell.locator(".col-help-text").bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.page.screenshot(path=str(screenshots / "worker-column-help-phone.png"), full_page=True)


def test_the_page_exports_every_cli_format_with_and_without_row_ids(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path, tmp_path: Path
) -> None:
    table = server.launched_table(capitals_definition(template=[{"country": "France"}]))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"))
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(ann.page.locator("#notice")).to_contain_text("Collection is complete")
    page = requester_page(browser, contexts, server, accept_downloads=True)
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("complete")
    page.locator("#results").scroll_into_view_if_needed()
    page.locator("#results").screenshot(path=str(screenshots / "requester-exports.png"))
    expect(page.locator("#export-format option")).to_have_text(
        ["CSV", "JSONL", "Parquet", "Hugging Face dataset (zip)"]
    )
    fields = export_fields([("country", "text"), ("capital", "text")]).fields
    for fmt in ("csv", "jsonl", "parquet", "hf"):
        for row_ids in (True, False):
            page.locator("#export-format").select_option(fmt)
            page.locator("#export-row-ids").set_checked(row_ids)
            with page.expect_download() as download:
                page.locator("#export-download").click()
            saved = tmp_path / f"{fmt}-{row_ids}-{download.value.suggested_filename}"
            download.value.save_as(saved)
            if fmt == "hf":
                with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
                    archive.extractall(tmp_path / f"hf-{row_ids}")
                saved = tmp_path / f"hf-{row_ids}" / f"{table}-final"
            wanted = [f for f in fields if row_ids or f.name != "row_id"]
            (row,) = read(fmt, saved, wanted)
            assert (row["country"], row["capital"], row["status"]) == ("France", "Paris", "green"), fmt
            assert ("row_id" in row) is row_ids
    # JSONL from the page is exactly what the fields say: every field present, nothing else.
    page.locator("#export-format").select_option("jsonl")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    line = json.loads(Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0])
    assert list(line) == [f.name for f in fields if f.name != "row_id"] or list(line) == [
        f.name for f in fields
    ]
