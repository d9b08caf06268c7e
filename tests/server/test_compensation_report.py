"""The compensation report over REST: a completed table pays its budget; an early close says why not."""

from __future__ import annotations

import httpx

from tests.support.crowd import join
from tests.support.live_server import LiveServer
from tests.support.requester import CAPITALS, create_table


async def _paris_confirmed(
    server: LiveServer, http: httpx.AsyncClient, template: list[dict[str, str]]
) -> str:
    """ann fills Paris into the template's France row and bob confirms it: the row is final."""
    table = await create_table(http, {**CAPITALS, "template": template})
    ann, bob = await join(server, http, table["id"], "ann", "bob")
    france = next(row for row, values in ann.rows().items() if ("country", "France") in values)
    assert (await ann.fill(france, "capital", "Paris", new_row_id="paris"))["ok"]
    await bob.wait_for(lambda: "paris" in bob.rows())
    assert (await bob.upvote("paris"))["ok"]
    if len(template) == 1:
        for worker in (ann, bob):
            await worker.wait_for(lambda w=worker: w.complete is not None)
    for worker in (ann, bob):
        await worker.disconnect()
    return str(table["id"])


async def test_a_completed_table_reports_its_whole_budget_paid(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await _paris_confirmed(server, http, [{"country": "France"}])
    report = (await http.get(f"/api/tables/{table}/compensation")).json()
    assert report["settled"] is True
    assert report["completed"] is True
    # France came from the template: its share is spread over ann's fill and bob's vote
    assert report["paid_cents"] == CAPITALS["budget_cents"]
    assert report["unpaid_cents"] == 0
    assert report["unpaid_reasons"] == {}
    settlement = report["settlement"]
    assert sum(settlement["payments"].values()) == CAPITALS["budget_cents"]
    assert settlement["unpaid_reasons"] == {}
    assert settlement["completed"] is True


async def test_a_table_closed_early_reports_the_unpaid_cents_by_reason(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    table = await _paris_confirmed(server, http, [{"country": "France"}, {"country": "Spain"}])
    assert (await http.post(f"/api/tables/{table}/close")).json()["status"] == "closed"
    report = (await http.get(f"/api/tables/{table}/compensation")).json()
    assert report["completed"] is False
    # Paris (rank 0) weighs 1/1.1 of the Spain row that never came: 500 / 2.1 = 238.10 cents for
    # Paris, 261.90 kept for Spain. Of Paris's share ann's capital earns 0.4 (95.24), bob's vote 0.2
    # (47.62), the template's France 0.4 (95.24); 0.86 cent is lost flooring 142.86 to 142.
    assert report["paid_cents"] == 142
    assert report["settlement"]["payments"] == {"ann": 95, "bob": 47}
    assert report["unpaid_cents"] == 358
    assert report["unpaid_reasons"] == {"closed_early_unfilled": 262, "template_values": 95, "rounding": 1}
