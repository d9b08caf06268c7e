"""Annotate: a model's prediction or suggestion on a row, sequenced like any operation."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdfill.model import (
    MODEL_WORKER,
    Annotate,
    CandidateTable,
    InvalidAnnotation,
    MalformedMessage,
    Operation,
    OutsideDomain,
    RowAnnotated,
    UnknownColumn,
    UnknownRow,
    Upvote,
)
from crowdfill.model.codec import event_from_wire, event_to_wire, operation_from_wire, operation_to_wire
from crowdfill.model.examples import SENTIMENT
from crowdfill.model.snapshot import restore, snapshot
from crowdfill.model.template import Template
from tests.model.support import Builder


def sentiment() -> Builder:
    return Builder(CandidateTable(SENTIMENT, template=Template(())))


def predict(row_id: str, value: str = "negative", confidence: float = 0.8) -> Annotate:
    return Annotate(MODEL_WORKER, row_id, "prediction", "label", value, confidence)


def test_a_prediction_is_kept_for_the_row_values_and_changes_no_score() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert({"label": "positive"}), {"text": "not bad at all"})
    before = (paper.table.score(row), paper.table.up(row), paper.table.status(row))
    events = paper.apply(predict(row))
    table = paper.table
    kept = table.annotation(table.row(row).values, "prediction", "label")
    assert kept is not None
    assert (kept.value, kept.confidence, kept.worker) == ("negative", 0.8, MODEL_WORKER)
    assert events == [RowAnnotated(kept)]
    assert (table.score(row), table.up(row), table.status(row)) == before


def test_the_same_annotation_twice_changes_nothing_the_second_time() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "fine"})
    canonical = paper.table.validate(predict(row))
    assert paper.table.integrate(canonical) != []
    assert paper.table.integrate(canonical) == []


def test_two_answers_for_one_key_keep_the_more_confident_in_either_order() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "fine"})
    low = paper.table.validate(predict(row, "negative", 0.6))
    high = paper.table.validate(predict(row, "positive", 0.9))
    first, second = CandidateTable(SENTIMENT), CandidateTable(SENTIMENT)
    for op in paper.log:
        first.integrate(op)
        second.integrate(op)
    first.integrate(low)
    first.integrate(high)
    second.integrate(high)
    second.integrate(low)
    assert first.fingerprint() == second.fingerprint()
    kept = first.annotation(high.values, "prediction", "label")
    assert kept is not None
    assert kept.value == "positive"


def test_an_annotation_arriving_before_its_row_still_converges() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "so so"})
    annotation = paper.table.validate(predict(row))
    early = CandidateTable(SENTIMENT)
    early.integrate(annotation)
    for op in paper.log:
        early.integrate(op)
    paper.table.integrate(annotation)
    assert early.fingerprint() == paper.table.fingerprint()


@pytest.mark.parametrize(
    ("annotation", "error", "problem"),
    [
        (Annotate(MODEL_WORKER, "nope", "prediction", "label", "negative", 0.5), UnknownRow, "nope"),
        (Annotate(MODEL_WORKER, "ROW", "prediction", "mood", "negative", 0.5), UnknownColumn, "mood"),
        (Annotate(MODEL_WORKER, "ROW", "prediction", "label", "meh", 0.5), OutsideDomain, "meh"),
        (Annotate(MODEL_WORKER, "ROW", "prediction", "label", "negative", 1.5), InvalidAnnotation, "1.5"),
        (Annotate(MODEL_WORKER, "ROW", "guess", "label", "negative", 0.5), InvalidAnnotation, "guess"),  # type: ignore[arg-type]  # a bad kind on purpose
        (Annotate(MODEL_WORKER, "ROW", "suggestion", "text", "hi", 0.5), InvalidAnnotation, "text"),
    ],
)
def test_a_bad_annotation_is_refused_with_a_clear_error(
    annotation: Annotate, error: type[Exception], problem: str
) -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "hello"})
    if annotation.row_id == "ROW":
        annotation = Annotate(
            annotation.worker,
            row,
            annotation.kind,
            annotation.column,
            annotation.value,
            annotation.confidence,
        )
    before = paper.table.fingerprint()
    with pytest.raises(error, match=problem):
        paper.apply(annotation)
    assert paper.table.fingerprint() == before


def test_a_suggestion_is_for_an_empty_cell() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "lovely"})
    paper.apply(Annotate(MODEL_WORKER, row, "suggestion", "label", "positive", 0.7))
    kept = paper.table.annotation(paper.table.row(row).values, "suggestion", "label")
    assert kept is not None
    assert kept.value == "positive"


def test_an_annotation_round_trips_through_the_wire_and_json() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "hello"})
    canonical = paper.table.validate(predict(row))
    wire = json.loads(json.dumps(operation_to_wire(canonical)))
    assert wire["type"] == "annotate"
    assert operation_from_wire(wire) == canonical
    assert isinstance(canonical, Annotate)
    event = RowAnnotated(canonical)
    assert event_from_wire(json.loads(json.dumps(event_to_wire(event)))) == event


@pytest.mark.parametrize(
    ("field", "bad"), [("kind", "guess"), ("confidence", "high"), ("confidence", True), ("confidence", -0.1)]
)
def test_a_malformed_annotation_on_the_wire_names_its_field(field: str, bad: object) -> None:
    wire = operation_to_wire(predict("r1"))
    wire[field] = bad
    with pytest.raises(MalformedMessage, match=field):
        operation_from_wire(wire)


def test_a_snapshot_carries_the_annotations() -> None:
    paper = sentiment()
    row = paper.fill_all("ann", paper.insert(), {"text": "hello"})
    paper.apply(predict(row))
    state = json.loads(json.dumps(snapshot(paper.table)))
    back = restore(SENTIMENT, paper.table.scoring, paper.table.template, state)
    assert back.fingerprint() == paper.table.fingerprint()
    del state["annotations"]  # a snapshot from before models in the loop
    assert restore(SENTIMENT, paper.table.scoring, paper.table.template, state).annotations() == []


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6))
def test_replicas_converge_with_annotations_in_any_order(seed: int, rows: int) -> None:
    rng = random.Random(seed)
    paper = sentiment()
    for index in range(rows):
        row = paper.fill_all(
            f"w{index % 2}",
            paper.insert({"label": rng.choice(["positive", "negative"])}),
            {"text": rng.choice(["good", "bad", "fine", "awful", "meh"])},
        )
        if rng.random() < 0.5 and not paper.table.worker_counted("voter", paper.table.row(row).values):
            paper.apply(Upvote("voter", row, frozenset()))
        for _ in range(rng.randint(0, 2)):
            paper.apply(predict(row, rng.choice(["positive", "negative"]), rng.choice([0.5, 0.7, 0.9])))
    log: list[Operation] = list(paper.log)
    shuffled = log[:]
    rng.shuffle(shuffled)
    replica = CandidateTable(SENTIMENT)
    for op in shuffled + shuffled:  # every op twice: idempotent too
        replica.integrate(op)
    assert replica.fingerprint() == paper.table.fingerprint()
