"""The worked example in docs/compensation.md is computed by the code: log read from the page,
tables rendered from the settlement and compared with the page."""

from __future__ import annotations

import re

from crowdfill.compensation import settle
from tests.compensation.worked_example import (
    SETTINGS,
    doc_text,
    log_block,
    parse_log,
    render_closed,
    render_estimates,
    render_payments,
    render_rows,
    run,
)


def _section(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n(.*?)\n<!-- /{name} -->", text, re.DOTALL)
    assert match is not None, f"docs/compensation.md has no {name} section"
    return match.group(1)


def test_the_example_log_produces_the_papers_final_table() -> None:
    table, _, _ = run(parse_log(log_block(doc_text())))
    final = {row.row_id for row in table.final_table()}
    assert final == {"m4", "b5", "c4"}
    assert (table.up("b7"), table.down("b7"), table.up("e5"), table.down("n2")) == (2, 1, 1, 2)


def test_the_rows_table_in_the_document_is_what_settle_computes() -> None:
    text = doc_text()
    table, log, _ = run(parse_log(log_block(text)))
    assert _section(text, "rows") == render_rows(settle(table, log, SETTINGS, completed=True))


def test_the_payments_table_in_the_document_is_what_settle_computes() -> None:
    text = doc_text()
    table, log, _ = run(parse_log(log_block(text)))
    settlement = settle(table, log, SETTINGS, completed=True)
    assert _section(text, "payments") == render_payments(settlement)
    # the table completed (the template is satisfied): the whole budget is paid
    assert settlement.paid_cents == 10_000
    assert settlement.unpaid_cents == 0
    assert settlement.unpaid_reasons == {}
    assert settlement.payments == {
        "alice": 2778,
        "bob": 2894,
        "carol": 873,
        "dave": 2063,
        "eve": 696,
        "frank": 696,
    }


def test_the_early_close_in_the_document_is_what_settle_computes() -> None:
    text = doc_text()
    table, log, _ = run(parse_log(log_block(text)))
    settlement = settle(table, log, SETTINGS, completed=False)
    assert _section(text, "closed") == render_closed(settlement)
    assert settlement.paid_cents == 8400
    assert settlement.unpaid_reasons == {"template_values": 1600}
    assert settlement.payments == {
        "alice": 2333,
        "bob": 2431,
        "carol": 733,
        "dave": 1733,
        "eve": 585,
        "frank": 585,
    }


def test_the_estimates_in_the_document_are_what_the_estimator_shows_before_closing() -> None:
    text = doc_text()
    table, log, estimator = run(parse_log(log_block(text)))
    settlement = settle(table, log, SETTINGS, completed=True)
    assert _section(text, "estimates") == render_estimates(estimator, list(settlement.payments))


def test_after_closing_every_example_estimate_is_the_payment() -> None:
    table, log, estimator = run(parse_log(log_block(doc_text())))
    table.close()
    for completed in (True, False):
        settlement = settle(table, log, SETTINGS, completed=completed)
        estimator.conclude(completed=completed)
        for worker, cents in settlement.payments.items():
            assert estimator.estimate(worker)["total"] == cents
