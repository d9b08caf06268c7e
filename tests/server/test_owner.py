"""The owner ends a collection at the operation that satisfies the template, whatever the batches."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crowdfill.central_client import CentralClient
from crowdfill.model import CENTRAL_CLIENT, CandidateTable, Downvote, Fill, Insert, Operation, Upvote
from crowdfill.model.codec import operation_to_wire
from crowdfill.server.audit import Held, audit
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import COMPLETE, COMPLETION_KIND, LIVE, SETTLEMENT_KIND, TableOwner
from crowdfill.server.views import candidate_rows, plain_rows
from crowdfill.store import open_store
from crowdfill.store.port import LogRecord, TableRecord
from tests.server.owner_support import (
    ONE_ROW,
    QuietListener,
    RecordingForward,
    launch_owner,
    logged_operations,
    submit_apart,
    submit_together,
)
from tests.support.live_server import test_settings


async def test_an_operation_batched_behind_the_satisfying_one_is_refused_and_cannot_undo_it() -> None:
    store = open_store("memory://")
    await store.open()
    # A linger so both operations surely share a batch (they would with none: see submit_together).
    owner = await launch_owner(store, ONE_ROW, settings=test_settings(batch_linger_seconds=0.05))
    (empty,) = [row.row_id for row in owner.table.rows()]
    (first,) = await submit_together(owner, [Fill("ann", empty, "r1", "country", "France", frozenset())])
    assert first.published is not None
    assert owner.status == LIVE

    completing, downvote = await submit_together(
        owner,
        [
            Fill("ann", "r1", "r2", "capital", "Paris", frozenset()),  # completes r2, upvoted by ann
            Downvote("bob", "r2", frozenset()),  # would make r2 not final again
        ],
    )

    assert completing.published is not None
    assert downvote.failure is not None
    assert downvote.failure.code == "table_closed"
    assert owner.status == COMPLETE
    log = await logged_operations(store, owner.table_id)
    assert log[-1][0] == completing.published.seq
    assert not any(isinstance(op, Downvote) for _, op in log)
    stored = await store.get_item(owner.table_id, COMPLETION_KIND, "final")
    assert stored == {"status": COMPLETE, "seq": completing.published.seq}
    await owner.stop()
    await store.close()


# --- random logs in random batches ------------------------------------------------------------
POOL: dict[str, tuple[str, ...]] = {"country": ("fr", "es"), "capital": ("paris", "madrid"), "river": ("x",)}
TEMPLATES: tuple[list[dict[str, str]], ...] = (
    [{}],
    [{}, {}],
    [{"country": "fr"}, {}],
    [{"country": "fr"}, {"country": "es"}],
)
SCORINGS = (
    {"family": "difference", "min_votes": 0},
    {"family": "threshold", "min_votes": 1},
    {"family": "threshold", "min_votes": 2},
)
WORKERS = ("ann", "bob", "cy")


def random_definition(template: list[dict[str, str]], scoring: dict[str, Any]) -> dict[str, Any]:
    columns = [{"name": name, "domain": list(domain)} for name, domain in POOL.items()]
    return {
        **ONE_ROW,
        "schema": {"columns": columns, "key": ["country"]},
        "template": template,
        "scoring": scoring,
    }


@st.composite
def batch_of_ops(draw: st.DrawFn, owner: TableOwner, fresh: Iterator[int]) -> list[Operation]:
    """1-4 operations drawn against the table as it stands; later ones may name rows earlier ones make.

    Mostly sensible (fill an empty cell, vote on a complete row) so that tables do complete, with
    some that the model refuses or that conflict within the batch.
    """
    # In the order the table added them, not by id: the central client's ids are random, and
    # Hypothesis needs the same draws to pick the same rows.
    rows = {row.row_id: dict(row.values) for row in owner.table.rows()}
    ops: list[Operation] = []
    for _ in range(draw(st.integers(1, 4))):
        worker = draw(st.sampled_from(WORKERS))
        complete = [r for r, values in rows.items() if len(values) == len(POOL)]
        open_rows = [r for r, values in rows.items() if len(values) < len(POOL)]
        kind = draw(st.sampled_from(("fill", "fill", "up", "up", "down")))
        if kind == "fill" and open_rows:
            row_id = draw(st.sampled_from(open_rows))
            column = draw(st.sampled_from([c for c in POOL if c not in rows[row_id]]))
            value = draw(st.sampled_from(POOL[column]))
            new_row_id = f"w{next(fresh)}"
            ops.append(Fill(worker, row_id, new_row_id, column, value, frozenset()))
            rows[new_row_id] = {**rows[row_id], column: value}
        elif kind == "up" and complete:
            ops.append(Upvote(worker, draw(st.sampled_from(complete)), frozenset()))
        else:
            ops.append(Downvote(worker, draw(st.sampled_from(list(rows))), frozenset()))
    return ops


def replayed_completion(definition: dict[str, Any], log: list[tuple[int, Operation]]) -> int | None:
    """Replay ``log`` one operation at a time (plain model + central client): where is it satisfied?"""
    spec = spec_from_json(definition)
    table = CandidateTable(spec.schema, spec.scoring, spec.template)
    central = CentralClient(table, lambda: "unused", close_when_satisfied=False)
    central.start()
    for seq, op in log:
        # The log holds the central client's inserts itself: what it plans now is not applied.
        central.observe(table.apply(op))
        if central.satisfied:
            return seq
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    template=st.sampled_from(TEMPLATES),
    scoring=st.sampled_from(SCORINGS),
    rounds=st.integers(1, 25),
    early=st.booleans(),
    spread=st.booleans(),
)
async def test_replaying_the_log_one_operation_at_a_time_completes_where_the_server_did(
    data: st.DataObject,
    template: list[dict[str, str]],
    scoring: dict[str, Any],
    rounds: int,
    early: bool,
    spread: bool,
) -> None:
    definition = random_definition(template, scoring)
    store = open_store("memory://")
    await store.open()
    owner = await launch_owner(store, definition)
    # Early forwarding (the server's default): each batch is forwarded before its last operation
    # is integrated, and the inserts that operation calls for follow it (TableOwner._forward_then_settle).
    # ``spread``: a round's operations arrive a little apart, most within the commit linger of
    # the first (TableOwner._stage_arrivals), each its own batch.
    forwarder = RecordingForward() if early else None
    owner.early = forwarder
    forwarded_after = owner.seq
    fresh = itertools.count(1)
    accepted: list[int] = []
    closed_refusals = 0
    try:
        for _ in range(rounds):
            ops = data.draw(batch_of_ops(owner, fresh))
            # The default commit linger is 20 ms: most of a spread round arrives within it.
            outcomes = await (submit_apart(owner, ops, 0.002) if spread else submit_together(owner, ops))
            accepted.extend(o.published.seq for o in outcomes if o.published is not None)
            refused = [o.failure.code for o in outcomes if o.failure is not None]
            closed_refusals += refused.count("table_closed")
            if "table_closed" in refused:
                event("operations refused behind the completing one")
            if owner.status != LIVE:
                break
        log = await logged_operations(store, owner.table_id)
        completion = replayed_completion(definition, log)
        worker_seqs = [seq for seq, op in log if op.worker != CENTRAL_CLIENT]
        assert worker_seqs == sorted(accepted)
        if forwarder is not None:
            # Every logged operation was forwarded once, in seq order, as logged.
            expected = [seq for seq, _ in log if seq > forwarded_after]
            assert [entry.seq for entry in forwarder.entries] == expected
            logged = {record.seq: record.operation for record in await store.read_log(owner.table_id)}
            assert all(logged[entry.seq] == entry.op for entry in forwarder.entries)
            assert forwarder.resets == 0
        if owner.status == COMPLETE:
            event("completed")
            # Nothing after the completing operation was accepted: it is the log's last one.
            assert completion == log[-1][0]
            stored = await store.get_item(owner.table_id, COMPLETION_KIND, "final")
            assert stored == {"status": COMPLETE, "seq": completion}
        else:
            assert completion is None
            assert closed_refusals == 0
        # The audit's stricter replay agrees too: every central-client insert where it plans it.
        held = Held(
            status=owner.status,
            candidates=candidate_rows(owner.table),
            final=plain_rows(owner.table, final=True),
            completion=await store.get_item(owner.table_id, COMPLETION_KIND, "final"),
            settlement=await store.get_item(owner.table_id, SETTLEMENT_KIND, "final"),
        )
        result = audit(owner.table_id, owner.spec, await store.read_log(owner.table_id), held)
        assert result.ok, result.checks
    finally:
        await owner.stop()
        await store.close()


async def test_recovery_stops_at_the_operation_that_completed_the_table() -> None:
    # A log written before collections ended at the satisfying operation: a downvote follows it.
    store = open_store("memory://")
    await store.open()
    spec = spec_from_json(ONE_ROW)
    now = 1.0
    await store.create_table(TableRecord("t-old", spec.definition, LIVE, now, now))
    ops: list[Operation] = [
        Insert("c1", frozenset()),
        Fill("ann", "c1", "r1", "country", "France", frozenset({("country", "France")})),
        Fill(
            "bob",
            "r1",
            "r2",
            "capital",
            "Paris",
            frozenset({("country", "France"), ("capital", "Paris")}),
            True,
        ),
        Downvote("cy", "r2", frozenset({("country", "France"), ("capital", "Paris")})),
    ]
    await store.append("t-old", [LogRecord(seq, operation_to_wire(op), now) for seq, op in enumerate(ops, 1)])

    owner = TableOwner("t-old", spec, LIVE, store, test_settings(), QuietListener())
    await owner.load()

    assert owner.status == COMPLETE
    assert owner.end_seq == 3
    assert await store.get_item("t-old", COMPLETION_KIND, "final") == {"status": COMPLETE, "seq": 3}
    assert [row.row_id for row in owner.table.final_table()] == ["r2"]  # the downvote is not applied
    assert owner.settlement is not None
    assert "cy" not in owner.settlement.payments
    await owner.stop()
    await store.close()
