"""The sentiment DADC demo end to end in Chromium: a sentence, the model's verdict, a vote, the yield."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from crowdfill.export.formats import read_hf
from crowdfill.export.remote import ExportApi
from crowdfill.server.dadc_demo import dadc_definition_data
from tests.support.live_server import LiveServer, live_server
from tests.web.support import Requester, new_context, open_worker

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dadc_server() -> Iterator[tuple[LiveServer, Requester]]:
    with live_server() as live:
        requester = Requester(live.base_url, live.settings.requester_token)
        try:
            yield live, requester
        finally:
            requester.client.close()


def test_a_sentence_that_fools_the_model_is_voted_final_counted_and_exported(
    dadc_server: tuple[LiveServer, Requester],
    browser: Browser,
    contexts: list[BrowserContext],
    screenshots: Path,
    tmp_path: Path,
) -> None:
    _, server = dadc_server
    # The model and the bonus come with the definition over REST: no server-side code attaches them.
    definition = dadc_definition_data()
    assert definition["assistant"] == {"model": "vader", "predict": "label"}
    table = server.call("POST", "/api/tables", definition)["id"]
    server.call("POST", f"/api/tables/{table}/launch")
    writer = open_worker(
        browser, contexts, server.worker_link(table, "writer"), viewport={"width": 1100, "height": 800}
    )
    voter = open_worker(browser, contexts, server.worker_link(table, "voter"))
    monitor = new_context(browser, contexts, requester_token=server.token).new_page()
    monitor.goto(f"{server.base_url}/tables/{table}/monitor")
    expect(monitor.locator("#connection")).to_have_text("Live")

    # A positive sentence the lexicon reads as negative: negative words, a positive meaning.
    sentence = "This movie is sick, insanely scary and brutal, I loved every terrifying minute"
    positive_row = writer.row_with("positive").first
    writer.fill(positive_row, "text", sentence)
    written = writer.row_with(sentence)
    verdict = written.locator(".model-verdict")
    expect(verdict).to_have_text("the model said negative")
    expect(verdict).to_have_attribute("data-fooled", "true")

    # The voter sees the same verdict and confirms the sentence is positive: the row is final.
    expect(voter.row_with(sentence).locator(".model-verdict")).to_have_text("the model said negative")
    voter.row_with(sentence).locator("button.vote.up").click()
    voter.wait_until_saved()

    expect(monitor.locator("#fooled-total")).to_have_text("1")
    expect(monitor.locator("#model-status")).to_contain_text("vader: 1 answers of 1 calls")
    # A fifth of the $10.00 budget rewards the rows that fooled the model: all of it the writer's.
    expect(monitor.locator("#fooled-bonus")).to_have_text("$2.00 (20% of the budget)")
    expect(monitor.locator('#workers tr[data-worker-id="writer"] td.fooled')).to_have_text("1 (+$2.00 bonus)")
    expect(monitor.locator('#workers tr[data-worker-id="voter"] td.fooled')).to_have_text("0")
    # The model has its own line ("Model in the loop"), not a row among the workers.
    expect(monitor.locator('#workers tr[data-worker-id="model"]')).to_have_count(0)
    writer.page.screenshot(path=str(screenshots / "dadc-worker.png"), full_page=True)
    voter.page.screenshot(path=str(screenshots / "dadc-voter.png"), full_page=True)
    monitor.screenshot(path=str(screenshots / "dadc-monitor.png"), full_page=True)

    # The Hugging Face dataset exported from the requester page carries the model's prediction and
    # confidence per row, with the same fields as `crowdfill export`.
    page = new_context(browser, contexts, requester_token=server.token, accept_downloads=True).new_page()
    page.goto(f"{server.base_url}/#table={table}")
    expect(page.locator("#status-badge")).to_have_text("live")
    page.locator("#export-format").select_option("hf")
    with page.expect_download() as download:
        page.locator("#export-download").click()
    with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as archive:
        archive.extractall(tmp_path)
    with ExportApi(server.base_url, server.token) as api:
        fields = api.fields(table)
    (row,) = read_hf(tmp_path / f"{table}-final", fields.fields)
    assert (row["text"], row["label"], row["model_label"]) == (sentence, "positive", "negative")
    confidence = row["model_label_confidence"]
    assert isinstance(confidence, float)
    assert 0.5 <= confidence <= 1.0

    # Closed, the settlement pays the bonus, and the compensation report says so.
    server.call("POST", f"/api/tables/{table}/close")
    settlement = server.call("GET", f"/api/tables/{table}/compensation")["settlement"]
    assert settlement["fooled_bonus"]["payments"] == {"writer": 200}
    page.reload()
    expect(page.locator("#status-badge")).to_have_text("closed")
    page.locator("#show-compensation").click()
    expect(page.locator("#fooled-bonus-report")).to_contain_text(
        "Bonus for 1 row(s) that fooled the model: $2.00 (20% of the budget), "
        "included in the pay below: writer $2.00."
    )
    page.locator("#compensation").screenshot(path=str(screenshots / "dadc-compensation.png"))
