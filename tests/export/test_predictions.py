"""Exports of a table with a model in the loop carry the model's prediction and confidence per row."""

from __future__ import annotations

from crowdfill.export import fields_for_schema, rows_from_api, rows_from_table
from crowdfill.export.fields import export_fields
from crowdfill.export.rows import contributions
from crowdfill.model import MODEL_WORKER, Annotate, CandidateTable, Upvote
from crowdfill.model.examples import SENTIMENT
from crowdfill.model.scoring import Scoring
from crowdfill.server.views import candidate_rows
from tests.model.support import Builder


def voted_table() -> Builder:
    paper = Builder(CandidateTable(SENTIMENT, Scoring("threshold", 2)))
    fooled = paper.fill_all("ann", paper.insert({"label": "positive"}), {"text": "sick and brutal, loved it"})
    right = paper.fill_all("bob", paper.insert({"label": "negative"}), {"text": "awful"})
    for row in (fooled, right):
        paper.apply(Upvote("cat", row, frozenset()))
    paper.apply(Annotate(MODEL_WORKER, fooled, "prediction", "label", "negative", 0.6))
    paper.apply(Annotate(MODEL_WORKER, fooled, "prediction", "label", "negative", 0.9))
    paper.apply(Annotate(MODEL_WORKER, right, "prediction", "label", "negative", 0.8))
    return paper


def test_a_predicted_column_adds_the_models_value_and_confidence_fields() -> None:
    plain = fields_for_schema(SENTIMENT)
    fields = fields_for_schema(SENTIMENT, ["label"])
    assert fields.names == (*plain.names, "model_label", "model_label_confidence")
    assert [f.kind for f in fields.fields[-2:]] == ["text", "number"]
    assert fields_for_schema(SENTIMENT, ["no_such_column"]).names == plain.names


def test_a_field_name_the_schema_already_uses_is_prefixed() -> None:
    fields = export_fields([("text", "text"), ("model_text", "text")], ["text"])
    assert fields.names[-2:] == ("crowdfill_model_text", "model_text_confidence")


def test_the_final_rows_carry_the_kept_prediction_from_the_table_and_from_the_log() -> None:
    paper = voted_table()
    known = contributions(paper.log)
    assert known.predicted() == ["label"]
    fields = fields_for_schema(SENTIMENT, known.predicted())
    in_memory = rows_from_table(paper.table, fields, "final", paper.log)
    payload = {"rows": candidate_rows(paper.table)}
    over_rest = rows_from_api(payload, fields, "final", known.contributors, known.prediction)
    by_text = {row["text"]: row for row in in_memory}
    assert (
        by_text["sick and brutal, loved it"]["model_label"],
        by_text["sick and brutal, loved it"]["model_label_confidence"],
    ) == ("negative", 0.9)
    assert by_text["awful"]["model_label"] == "negative"
    assert sorted(in_memory, key=str) == sorted(over_rest, key=str)


def test_a_row_the_model_never_saw_exports_empty_prediction_fields() -> None:
    paper = Builder(CandidateTable(SENTIMENT, Scoring("threshold", 1)))
    paper.fill_all("ann", paper.insert(), {"text": "hello", "label": "positive"})
    (row,) = rows_from_table(paper.table, fields_for_schema(SENTIMENT, ["label"]), "final", paper.log)
    assert (row["model_label"], row["model_label_confidence"]) == (None, None)
