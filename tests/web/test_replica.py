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
    MODEL_WORKER,
    Annotate,
    CandidateTable,
    Column,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
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
      retracted: replica.myRetracted.map((vote) => [vote.kind, vote.values]),
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
        elif roll < 0.88:
            run(Downvote(worker, row.row_id, frozenset()))
        elif roll < 0.95:
            # Take back one of the worker's votes, naming a row with exactly its values.
            mine = {values for voter, _, values in table.vote_records() if voter == worker}
            holders = [r.row_id for r in table.all_rows() if r.values in mine]
            run(Retract(worker, rng.choice(holders) if holders else row.row_id))
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
    expected_retracted = sorted(
        (kind, _canonical(values_to_dict(values)))
        for worker, kind, values in table.retractions()
        if worker == "ann"
    )
    assert any(op["type"] == "fill" for op in log)
    for result in results:
        assert len(result["order"]) == len(set(result["order"]))
        assert sorted((row_id, _canonical(values)) for row_id, values in result["rows"]) == expected_rows
        assert sorted((kind, _canonical(values)) for kind, values in result["votes"]) == expected_votes
        assert sorted((kind, _canonical(v)) for kind, v in result["retracted"]) == expected_retracted


def test_the_generated_logs_take_votes_back_including_anns() -> None:
    logs = [_random_log(seed)[0] for seed in range(8)]
    retracts = [op for log in logs for op in log if op["type"] == "retract"]
    assert {op["kind"] for op in retracts} == {"up", "down"}
    assert any(op["worker"] == "ann" for op in retracts)


UNDO = """
async () => {
  const { Replica } = await import("/static/js/replica.js");
  const replica = new Replica(["a", "b"]);
  replica.me = "ann";
  replica.apply({ type: "insert", row_id: "i1", values: {} });
  const fill = (worker, from, to, column, values, upvote) =>
    replica.apply({
      type: "fill", worker, row_id: from, new_row_id: to, column, value: values[column], values, upvote,
    });
  fill("ann", "i1", "f1", "a", { a: "x" }, false);
  replica.apply({ type: "downvote", worker: "ann", row_id: "f1", values: { a: "x" } });
  fill("bob", "f1", "f2", "b", { a: "x", b: "y" }, true);
  const row = { a: "x", b: "y" };
  const before = {
    mine: replica.myVoteOn(row),
    undo: replica.undoableVoteOn("f2", row),
    canUp: replica.canUpvote(row),
  };
  const retract = { type: "retract", worker: "ann", row_id: "f1", values: { a: "x" }, kind: "down" };
  const changed = replica.apply(retract);
  const again = replica.apply(retract);
  const after = {
    mine: replica.myVoteOn(row),
    undo: replica.undoableVoteOn("f2", row),
    canUp: replica.canUpvote(row),
    canDownPart: replica.canDownvote({ a: "x" }, () => false),
    canDownRow: replica.canDownvote(row, () => false),
  };
  const early = new Replica(["a", "b"]);
  early.me = "ann";
  early.apply(retract);
  early.apply({ type: "downvote", worker: "ann", row_id: "f1", values: { a: "x" } });
  return { before, changed, again, after, late: early.myVotes.length };
}
"""


def test_undo_names_the_row_of_a_downvoted_part_and_the_retracted_vote_is_not_offered_again(
    page: Page,
) -> None:
    result = page.evaluate(UNDO)
    assert result["before"] == {
        "mine": "down",
        "undo": {"kind": "down", "values": {"a": "x"}, "rowId": "f1"},
        "canUp": False,
    }
    assert (result["changed"], result["again"]) == (True, False)
    assert result["after"] == {
        "mine": None,
        "undo": None,
        "canUp": True,  # the other sign, on the completion
        "canDownPart": False,  # the same vote again: refused by the server, not offered
        "canDownRow": True,
    }
    assert result["late"] == 0, "a retract that arrived first still wins over its vote"


ANNOTATE = """
async ([ops, orders, values]) => {
  const { Replica } = await import("/static/js/replica.js");
  return orders.map((order) => {
    const replica = new Replica(["text", "label"]);
    for (const index of order) replica.apply(ops[index]);
    const kept = replica.annotation("prediction", "label", values);
    return kept && [kept.value, kept.confidence];
  });
}
"""


def test_the_page_keeps_the_same_model_prediction_as_the_model_in_any_order(page: Page) -> None:
    schema = Schema((Column("text"), Column("label")), ("text",))
    table = CandidateTable(schema)
    table.apply(Insert("r1", frozenset({("text", "fine"), ("label", "positive")})))
    answers = [("negative", 0.6), ("positive", 0.9), ("neutral", 0.9), ("negative", 0.9)]
    ops = []
    for value, confidence in answers:
        canonical = table.validate(Annotate(MODEL_WORKER, "r1", "prediction", "label", value, confidence))
        table.integrate(canonical)
        ops.append(operation_to_wire(canonical))
    kept = table.annotation(table.row("r1").values, "prediction", "label")
    assert kept is not None

    results = page.evaluate(
        ANNOTATE, [ops, list(_orders(len(ops), 10, 1)), {"text": "fine", "label": "positive"}]
    )

    assert results == [[kept.value, kept.confidence]] * len(results)


SEQS = """
async (arrivals) => {
  const { SeqTracker } = await import("/static/js/replica.js");
  const seq = new SeqTracker();
  seq.reset(10);
  const seen = [];
  for (const n of arrivals) {
    seq.note(n);
    seen.push([seq.last, seq.max()]);
  }
  seq.reset(12);
  seen.push([seq.last, seq.max()]);
  return seen;
}
"""


def test_the_seq_tracker_sends_the_highest_seq_seen_past_a_gap_and_a_snapshot_forgets_it(page: Page) -> None:
    # 11 is late (an ack still on its way): 12 and 13 arrived past the gap.
    seen = page.evaluate(SEQS, [12, 13, 11, 9])
    assert seen == [[10, 12], [10, 13], [13, 13], [13, 13], [12, 12]]
