"""The worker page's replica (web/js/replica.js) agrees with the model, whatever the arrival order."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from crowdfill.model import (
    CandidateTable,
    Column,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Schema,
    Scoring,
    Upvote,
    values_to_dict,
)
from crowdfill.model.codec import operation_to_wire
from tests.web.support import Requester

pytestmark = pytest.mark.browser

WORKERS = ("ann", "bob", "cy")

# Applies every order of the log to a fresh replica; returns, per order, the live rows and ann's votes.
REPLAY = """
async ([log, orders]) => {
  const { Replica } = await import("/static/js/replica.js");
  return orders.map((order) => {
    const replica = new Replica(["a", "b", "c"]);
    replica.me = "ann";
    for (const index of order) replica.apply(log[index]);
    replica.apply(log[order[0]]);  // a repeated operation changes nothing
    return {
      order: replica.order,
      rows: replica.liveRows().map((row) => [row.row_id, row.values]),
      votes: replica.myVotes.map((vote) => [vote.kind, vote.values]),
    };
  });
}
"""


def _random_log(seed: int) -> tuple[list[dict[str, Any]], CandidateTable]:
    """Operations a server could have accepted, including fills of already replaced rows."""
    rng = random.Random(seed)
    schema = Schema((Column("a"), Column("b"), Column("c")), ("a",))
    table = CandidateTable(schema, Scoring("difference"))
    log: list[dict[str, Any]] = []
    ids = itertools.count()

    def run(operation: Operation) -> None:
        try:
            canonical = table.validate(operation)
        except CrowdFillError:
            return
        table.integrate(canonical)
        log.append(operation_to_wire(canonical))

    for _ in range(3):
        run(Insert(f"i{next(ids)}", frozenset()))
    for _ in range(80):
        row = rng.choice(table.all_rows())
        worker = rng.choice(WORKERS)
        roll = rng.random()
        if roll < 0.55:
            column, value = rng.choice("abc"), rng.choice("xy")
            run(Fill(worker, row.row_id, f"f{next(ids)}", column, value, frozenset()))
        elif roll < 0.75:
            run(Upvote(worker, row.row_id, frozenset()))
        elif roll < 0.95:
            run(Downvote(worker, row.row_id, frozenset()))
        else:
            run(Insert(f"i{next(ids)}", frozenset()))
    return log, table


def _orders(size: int, count: int, seed: int) -> Iterator[list[int]]:
    rng = random.Random(seed)
    yield list(range(size))
    yield list(reversed(range(size)))
    for _ in range(count):
        order = list(range(size))
        rng.shuffle(order)
        yield order


def _canonical(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True)


@pytest.fixture(scope="module")
def page(server: Requester, browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base_url}/static/favicon.svg")
    yield page
    context.close()


@pytest.mark.parametrize("seed", range(8))
def test_the_page_replica_converges_to_the_models_table_for_any_arrival_order(page: Page, seed: int) -> None:
    log, table = _random_log(seed)
    orders = list(_orders(len(log), 30, seed))

    results: list[dict[str, Any]] = page.evaluate(REPLAY, [log, orders])

    expected_rows = sorted((row.row_id, _canonical(values_to_dict(row.values))) for row in table.rows())
    expected_votes = sorted(
        (kind, _canonical(values_to_dict(values)))
        for worker, kind, values in table.vote_records()
        if worker == "ann"
    )
    assert any(op["type"] == "fill" for op in log)
    for result in results:
        assert len(result["order"]) == len(set(result["order"]))
        assert sorted((row_id, _canonical(values)) for row_id, values in result["rows"]) == expected_rows
        assert sorted((kind, _canonical(values)) for kind, values in result["votes"]) == expected_votes
