"""The worker page with two workers in two browser contexts, against a live server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.web.support import (
    Requester,
    SocketTap,
    WorkerPage,
    capitals_definition,
    new_context,
    open_worker,
    tapped_worker,
)

pytestmark = pytest.mark.browser


# A laptop-sized window, the size the worker page screenshot is taken at.
VIEWPORT = {"width": 1100, "height": 720}


def test_a_fill_in_one_worker_page_appears_in_the_other(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    expect(ann.page.locator("#instructions-text")).to_contain_text("Name the capital")
    expect(bob.row_with("France")).to_have_count(1)

    ann.fill(ann.row_with("France"), "capital", "Paris")

    expect(bob.row_with("Paris")).to_have_count(1)
    expect(bob.row_with("Paris").locator("td.filled")).to_have_text(["France", "Paris"])
    ann.wait_until_saved()
    # The fill completed the row, which counts as Ann's upvote: marked, and not offered again.
    expect(ann.row_with("Paris").locator(".my-vote.up")).to_have_count(1)
    expect(ann.row_with("Paris").locator("button.vote")).to_have_count(0)
    # Bob may still vote on it either way; vote totals are not shown to workers.
    expect(bob.row_with("Paris").locator("button.vote.up")).to_have_count(1)
    expect(bob.page.locator("#table")).not_to_contain_text("score")
    expect(ann.page.locator("#pay-total")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    bob.page.screenshot(path=str(screenshots / "worker-page.png"), full_page=True)


def test_a_simultaneous_fill_of_the_same_cell_duplicates_the_row_in_both_pages(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann, tap = tapped_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)

    # Ann's fill leaves her browser but is held on the way, so both fills target the same row.
    tap.hold_outgoing()
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(ann.row_with("Paris")).to_have_count(1)  # her own action shows at once
    bob.fill(bob.row_with("France"), "capital", "Lyon")
    bob.wait_until_saved()
    tap.release()

    for page in (ann, bob):
        expect(page.row_with("France")).to_have_count(2)
        expect(page.row_with("Paris")).to_have_count(1)
        expect(page.row_with("Lyon")).to_have_count(1)
    ann.wait_until_saved()
    france = [row for row in server.candidates(table) if row["values"].get("country") == "France"]
    assert sorted(row["values"]["capital"] for row in france) == ["Lyon", "Paris"]


def test_a_refused_vote_is_rolled_back_with_the_servers_reason(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    # Difference scoring: a completing fill's own upvote makes its row final at once.
    table = server.launched_table(capitals_definition(template=[{"country": "France"}, {"country": "Spain"}]))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob, tap = tapped_worker(browser, contexts, server.worker_link(table, "bob"))
    page = bob.page
    ann.fill(ann.row_with("France"), "capital", "Paris")
    paris = bob.row_with("Paris")
    expect(paris.locator("button.vote.down")).to_have_count(1)

    # Ann's next fill completes the table, but Bob's page has not heard of it when he downvotes Paris.
    tap.hold_incoming()
    ann.fill(ann.row_with("Spain"), "capital", "Madrid")
    expect(ann.page.locator("#notice")).to_contain_text("Collection is complete")
    paris.locator("button.vote.down").click()
    expect(paris.locator(".my-vote.down")).to_have_count(1)  # shown at once, before the server answers
    tap.release()

    expect(page.locator("#toasts .toast-error")).to_contain_text("Your downvote was not counted")
    expect(page.locator("#toasts .toast-error")).to_contain_text("no more operations")
    expect(paris.locator(".my-vote")).to_have_count(0)
    expect(page.locator("#notice")).to_contain_text("Collection is complete")
    assert all(row["down"] == 0 for row in server.candidates(table))


def test_thumbs_down_is_not_offered_on_rows_the_template_protects(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    template = [{"country": "France", "capital": "Paris"}, {}, {}]
    table = server.launched_table(capitals_definition(template=template))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    ann.fill(ann.empty_rows().first, "country", "France")
    ann.wait_until_saved()
    ann.fill(ann.empty_rows().first, "country", "Atlantis")
    ann.wait_until_saved()

    # The template's own row may be upvoted but not downvoted, and neither may a row holding
    # part of it (the server refuses both with template_protected); other rows may be.
    template_row = bob.row_with("Paris")
    part_of_it = bob.row_with("France").filter(has_not=bob.page.locator("td.filled", has_text="Paris"))
    expect(template_row.locator("button.vote.up")).to_have_count(1)
    expect(template_row.locator("button.vote.down")).to_have_count(0)
    expect(part_of_it).to_have_count(1)
    expect(part_of_it.locator("button.vote.down")).to_have_count(0)
    expect(bob.row_with("Atlantis").locator("button.vote.down")).to_have_count(1)
    # The same holds for a page that joined before the rows were filled (Ann's).
    expect(ann.row_with("Atlantis").locator("button.vote.down")).to_have_count(1)
    expect(ann.row_with("Paris").locator("button.vote.down")).to_have_count(0)


def test_a_fill_the_server_refuses_is_rolled_back_with_the_reason(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    bob, tap = tapped_worker(browser, contexts, server.worker_link(table, "bob"))
    page = bob.page
    # "Live" can show before the snapshot is drawn: hold nothing until the rows are there.
    expect(bob.empty_rows().first).to_be_visible()

    # The requester closes the table, but Bob's page has not heard of it yet when he fills a cell.
    tap.hold_incoming()
    server.call("POST", f"/api/tables/{table}/close")
    bob.fill(bob.empty_rows().first, "country", "Spain")
    expect(bob.row_with("Spain")).to_have_count(1)  # shown at once, before the server answers
    tap.release()

    expect(bob.row_with("Spain")).to_have_count(0)
    expect(page.locator("#toasts .toast-error")).to_contain_text("Your country value was not saved")
    expect(page.locator("#notice")).to_contain_text("closed collection")
    expect(page.locator("#table .cell-editor")).to_have_count(0)
    assert all(row["values"].get("country") != "Spain" for row in server.candidates(table))


def test_when_the_table_completes_the_worker_sees_the_final_pay_and_the_table_turns_read_only(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table(capitals_definition(template=[{"country": "France"}]))
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)

    # Difference scoring: the completing fill's own upvote makes the row final; the template is met.
    ann.fill(ann.row_with("France"), "capital", "Paris")

    expect(ann.page.locator("#notice")).to_contain_text("Collection is complete")
    expect(ann.page.locator("#pay-label")).to_have_text("Your pay")
    expect(ann.page.locator("#pay-total")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    expect(ann.page.locator("#table .cell-editor")).to_have_count(0)
    expect(ann.page.locator("#table button.vote")).to_have_count(0)
    expect(ann.row_with("Paris")).to_have_class(re.compile(r"\bfinal\b"))


def test_a_worker_whose_link_is_revoked_is_told_and_disconnected(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)

    server.call("DELETE", f"/api/tables/{table}/links/ann")

    expect(ann.page.locator("#notice")).to_contain_text("disconnected")
    expect(ann.page.locator("#connection")).not_to_have_text("Live")
    expect(ann.page.locator("#table .cell-editor")).to_have_count(0)


def test_a_value_of_the_wrong_type_is_explained_in_its_cell_and_not_sent(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    definition = capitals_definition(
        schema={
            "columns": [
                {"name": "country", "type": "text"},
                {"name": "population", "type": "integer"},
                {"name": "continent", "type": "text", "domain": ["Africa", "Asia", "Europe"]},
            ],
            "key": ["country"],
        },
        template=[{"country": "France"}],
    )
    table = server.launched_table(definition)
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    row = ann.row_with("France")
    # A column with a domain is edited with a select of its allowed values.
    expect(ann.editor(row, "continent").locator("option")).to_have_text(["—", "Africa", "Asia", "Europe"])

    editor = ann.type_into(row, "population", "many")
    editor.press("Enter")

    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(ann.page.locator("#toasts .toast-error")).to_contain_text("whole number")
    expect(editor).to_have_value("many")
    assert [row["values"] for row in server.candidates(table)] == [{"country": "France"}]
    # Esc clears the cell; a correct value then goes through.
    editor.press("Escape")
    expect(editor).to_have_value("")
    ann.fill(row, "population", "68000000")
    expect(ann.row_with("68000000")).to_have_count(1)
    ann.wait_until_saved()


def test_a_worker_fills_and_votes_with_the_keyboard_only(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    ann.fill(ann.row_with("France"), "capital", "Paris")
    expect(bob.row_with("Paris")).to_have_count(1)

    page = bob.page
    page.locator("body").focus()
    # Tab reaches the upvote button of the Paris row, Enter presses it.
    upvote = bob.row_with("Paris").locator("button.vote.up")
    for _ in range(40):
        page.keyboard.press("Tab")
        if upvote.evaluate("node => node === document.activeElement"):
            break
    page.keyboard.press("Enter")

    expect(bob.row_with("Paris").locator(".my-vote.up")).to_have_count(1)
    bob.wait_until_saved()
    paris = next(r for r in server.candidates(table) if r["values"].get("capital") == "Paris")
    assert paris["up"] == 2


def test_own_votes_stay_marked_and_are_not_offered_again_after_a_reload(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    ann.fill(ann.row_with("France"), "capital", "Paris")
    ann.wait_until_saved()
    empty = ann.empty_rows().first
    ann.fill(empty, "country", "Atlantis")
    ann.wait_until_saved()
    atlantis = ann.row_with("Atlantis")
    atlantis.locator("button.vote.down").click()
    ann.wait_until_saved()
    expect(atlantis.locator(".my-vote.down")).to_have_count(1)

    ann.page.reload()
    expect(ann.page.locator("#connection")).to_have_text("Live")

    expect(ann.row_with("Paris").locator(".my-vote.up")).to_have_count(1)
    expect(ann.row_with("Atlantis").locator(".my-vote.down")).to_have_count(1)
    expect(ann.page.locator("#table button.vote")).to_have_count(0)


def test_after_a_reconnect_the_page_catches_up_and_keeps_what_the_worker_was_typing(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    table = server.launched_table()
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    page = new_context(browser, contexts).new_page()
    tap = SocketTap(page)
    blocked = {"on": False}

    polled: list[str] = []

    def polling(route: Route) -> None:
        if blocked["on"]:
            route.abort()
            return
        polled.append(route.request.post_data or "")
        route.continue_()

    page.route("**/socket.io/**", polling)
    page.goto(server.worker_link(table, "bob"))
    bob = WorkerPage(page)
    expect(page.locator("#connection")).to_have_text("Live")
    tap.wait_for_upgrade()
    draft = bob.type_into(bob.empty_rows().first, "country", "Germ")

    blocked["on"] = True
    tap.cut()
    expect(page.locator("#connection")).not_to_have_text("Live")
    ann.fill(ann.row_with("France"), "capital", "Paris")
    ann.wait_until_saved()
    expect(bob.row_with("Paris")).to_have_count(0)
    blocked["on"] = False

    expect(page.locator("#connection")).to_have_text("Live", timeout=15_000)
    expect(bob.row_with("Paris")).to_have_count(1)
    expect(draft).to_have_value("Germ")
    # The reconnection asked for what it missed: its Socket.IO CONNECT carried the last seq it saw.
    assert any('"last_seq"' in packet for packet in [*polled, *tap.sent])
    # ... and the server run that seq belongs to (the snapshot's incarnation).
    assert any('"incarnation"' in packet for packet in [*polled, *tap.sent])


def test_a_worker_undoes_a_vote_and_the_monitor_counts_drop(
    server: Requester, browser: Browser, contexts: list[BrowserContext], screenshots: Path
) -> None:
    table = server.launched_table()  # scoring: difference (score = up - down)
    monitor = new_context(browser, contexts, requester_token=server.token).new_page()
    monitor.goto(f"{server.base_url}/tables/{table}/monitor")
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    bob = open_worker(browser, contexts, server.worker_link(table, "bob"), viewport=VIEWPORT)
    on_monitor = monitor.locator("#candidates tbody tr").filter(
        has=monitor.get_by_role("cell", name="Paris", exact=True)
    )

    ann.fill(ann.row_with("France"), "capital", "Paris")
    bob.row_with("Paris").locator("button.vote.up").click()
    bob.wait_until_saved()
    expect(on_monitor.locator("td.up")).to_have_text("2")

    # Bob mis-clicked: he takes his upvote back. The page shows it at once and offers only the other sign.
    paris = bob.row_with("Paris")
    paris.get_by_role("button", name="Undo your upvote on row 1").click()
    expect(paris.locator(".my-vote")).to_have_count(0)
    expect(paris.locator("button.vote.up")).to_have_count(0)
    expect(paris.locator("button.vote.down")).to_have_count(1)
    expect(paris.locator(".vote-why")).to_have_text("upvote taken back")
    bob.wait_until_saved()
    expect(on_monitor.locator("td.up")).to_have_text("1")
    bob.page.screenshot(path=str(screenshots / "worker-vote-undone.png"))

    # Ann takes back the upvote her completing fill cast for her.
    ann.row_with("Paris").locator("button.undo").click()
    expect(on_monitor.locator("td.up")).to_have_text("0")
    expect(on_monitor.locator("td.score")).to_have_text("0")
    expect(on_monitor).to_have_attribute("data-status", "blue")
    ann.wait_until_saved()
    assert [row["up"] for row in server.candidates(table) if row["values"].get("capital") == "Paris"] == [0]

    # After a reload the retracted vote is still not offered again; the other sign still is.
    bob.page.reload()
    expect(bob.page.locator("#connection")).to_have_text("Live")
    expect(bob.row_with("Paris").locator("button.vote.up")).to_have_count(0)
    expect(bob.row_with("Paris").locator("button.vote.down")).to_have_count(1)
    expect(bob.row_with("Paris").locator("button.undo")).to_have_count(0)
