"""Column rules in the pages: the requester sets them, the worker sees them and is stopped early."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, BrowserContext, Page, expect

from crowdfill.model.errors import InvalidPattern
from crowdfill.model.pattern import compile_pattern
from tests.model.patterns import Rendered, patterns, values
from tests.model.test_pattern import MEANINGS
from tests.web.support import Requester, new_context, open_worker

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 1000}


def test_a_requester_sets_rules_and_a_worker_sees_them_and_cannot_send_a_value_breaking_them(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    page = new_context(browser, contexts, requester_token=server.token, viewport=VIEWPORT).new_page()
    page.goto(f"{server.base_url}/")
    page.get_by_role("button", name="New table").click()
    page.locator("#table-name").fill("Airports with rules")
    page.get_by_label("column 1 name").fill("code")
    page.get_by_label("column 1 is part of the primary key").check()
    page.get_by_label("column 1 max length").fill("3")
    page.get_by_label("column 1 pattern").fill("[A-Z]{3}")
    page.get_by_role("button", name="Add column").click()
    page.get_by_label("column 2 name").fill("elevation")
    page.get_by_label("column 2 type").select_option("integer")
    page.get_by_label("column 2 min").fill("-500")
    page.get_by_label("column 2 max").fill("9000")
    page.get_by_role("button", name="Add template row").click()
    page.get_by_role("button", name="Add template row").click()
    # A template value breaking a rule is caught before anything is sent.
    page.get_by_label("template row 1, code").fill("cdg")
    page.get_by_role("button", name="Create table").click()
    expect(page.locator("#notice")).to_contain_text("rule: pattern")
    page.get_by_label("template row 1, code").fill("CDG")
    page.get_by_role("button", name="Create table").click()
    expect(page.locator("#status-badge")).to_have_text("draft")
    page.get_by_role("button", name="Launch").click()
    page.get_by_role("button", name="Launch and lock").click()
    expect(page.locator("#status-badge")).to_have_text("live")

    tables = server.call("GET", "/api/tables")["tables"]
    table = next(t for t in tables if t["definition"]["name"] == "Airports with rules")
    columns = table["definition"]["schema"]["columns"]
    assert columns == [
        {"name": "code", "type": "text", "domain": None, "max_length": 3, "pattern": "[A-Z]{3}"},
        {"name": "elevation", "type": "integer", "domain": None, "min": -500, "max": 9000},
    ]

    ann = open_worker(browser, contexts, server.worker_link(table["id"], "ann"), viewport=VIEWPORT)
    head = ann.page.locator("#table thead")
    expect(head).to_contain_text("pattern [A-Z]{3}")
    expect(head).to_contain_text("≤ 3 characters")
    expect(head).to_contain_text("min -500 · max 9000")
    row = ann.row_with("CDG")
    for value, rule in (("9001", "rule: max"), ("-501", "rule: min")):
        editor = ann.type_into(row, "elevation", value)
        editor.press("Enter")
        expect(editor).to_have_attribute("aria-invalid", "true")
        expect(ann.page.locator("#toasts .toast-error").last).to_contain_text(rule)
    # A whole number beyond what a browser holds exactly is refused rather than rounded.
    editor = ann.type_into(row, "elevation", "123456789012345678")
    editor.press("Enter")
    expect(ann.page.locator("#toasts .toast-error").last).to_contain_text("9007199254740991")
    empty = ann.empty_rows().first
    editor = ann.type_into(empty, "code", "cd1")
    editor.press("Enter")
    expect(ann.page.locator("#toasts .toast-error").last).to_contain_text("rule: pattern")
    assert sorted(str(r["values"]) for r in server.candidates(table["id"])) == ["{'code': 'CDG'}", "{}"]
    # A value within the rules goes through; 392.0 is the integer 392.
    ann.fill(row, "elevation", "392.0")
    expect(ann.row_with("392")).to_have_count(1)
    ann.wait_until_saved()


def test_rule_hints_are_shown_as_text_never_as_markup(
    server: Requester, browser: Browser, contexts: list[BrowserContext]
) -> None:
    definition: dict[str, Any] = {
        "name": "Markup in a pattern",
        "schema": {"columns": [{"name": "tag", "pattern": "<b>[a-z]+<\\/b>"}]},
        "template": [{}],
        "budget_cents": 100,
    }
    table = server.launched_table(definition)
    ann = open_worker(browser, contexts, server.worker_link(table, "ann"), viewport=VIEWPORT)
    head = ann.page.locator("#table thead")
    expect(head).to_contain_text("pattern <b>[a-z]+<\\/b>")
    expect(head.locator("b")).to_have_count(0)
    ann.fill(ann.empty_rows().first, "tag", "<b>bold</b>")
    expect(ann.row_with("<b>bold</b>")).to_have_count(1)


@pytest.fixture(scope="module")
def blank(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


_JS_MATCHES = """(cases) => cases.map(([p, v]) => new RegExp(`^(?:${p})$`, "u").test(v))"""


def test_javascript_regexp_means_what_the_server_means_on_the_documented_examples(blank: Page) -> None:
    cases = [[source, text] for source, text, _ in MEANINGS]
    assert blank.evaluate(_JS_MATCHES, cases) == [expected for _, _, expected in MEANINGS]


@given(st.lists(st.tuples(patterns, st.lists(values, min_size=1, max_size=5)), min_size=1, max_size=20))
@settings(max_examples=30, deadline=None)
def test_javascript_regexp_agrees_with_the_servers_engine_on_random_patterns(
    blank: Page, batch: list[tuple[Rendered, list[str]]]
) -> None:
    cases = [(pattern.source, text) for pattern, texts in batch for text in texts]
    expected = [compile_pattern(source).matches(text) for source, text in cases]
    assert blank.evaluate(_JS_MATCHES, cases) == expected, cases


_JS_MATCHES_OR_ERROR = """(cases) => cases.map(([p, v]) => {
  try {
    return new RegExp(`^(?:${p})$`, "u").test(v);
  } catch (error) {
    return error.name;
  }
})"""


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab1_ -\\.*+?()[]{}|^$dwsDWS,:=!</", min_size=1, max_size=12),
            st.lists(values, min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=40, deadline=None)
def test_every_pattern_the_server_accepts_compiles_in_javascript_and_means_the_same(
    blank: Page, batch: list[tuple[str, list[str]]]
) -> None:
    cases: list[tuple[str, str]] = []
    expected: list[bool] = []
    for source, texts in batch:
        try:
            compiled = compile_pattern(source)
        except InvalidPattern:
            continue
        for text in texts:
            cases.append((source, text))
            expected.append(compiled.matches(text))
    if cases:
        assert blank.evaluate(_JS_MATCHES_OR_ERROR, cases) == expected, cases
