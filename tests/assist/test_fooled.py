"""Rows that fooled the model: final, and the model predicted another value than the crowd's."""

from __future__ import annotations

from crowdfill.assist.fooled import FooledRow, fooled_by_worker, fooled_rows
from crowdfill.model import MODEL_WORKER, Annotate, CandidateTable, Downvote, Upvote
from crowdfill.model.examples import SENTIMENT
from crowdfill.model.scoring import Scoring
from tests.model.support import Builder


def test_only_final_rows_the_model_got_wrong_count_for_their_authors() -> None:
    paper = Builder(CandidateTable(SENTIMENT, Scoring("threshold", 2)))
    fooled = paper.fill_all("ann", paper.insert({"label": "positive"}), {"text": "sick, loved it"})
    right = paper.fill_all("bob", paper.insert({"label": "negative"}), {"text": "awful"})
    unconfirmed = paper.fill_all("ann", paper.insert({"label": "positive"}), {"text": "grim but great"})
    rejected = paper.fill_all("bob", paper.insert({"label": "positive"}), {"text": "terrible"})
    for row in (fooled, right):
        paper.apply(Upvote("cat", row, frozenset()))
    paper.apply(Downvote("cat", rejected, frozenset()))
    for row in (fooled, right, unconfirmed, rejected):
        paper.apply(Annotate(MODEL_WORKER, row, "prediction", "label", "negative", 0.8))
    authors = {fooled: "ann", right: "bob", unconfirmed: "ann", rejected: "bob"}

    found = fooled_rows(paper.table, authors)

    assert found == [FooledRow(fooled, "ann", "label", "positive", "negative", 0.8)]
    assert fooled_by_worker(found) == {"ann": 1}


def test_a_final_row_without_a_prediction_fooled_nobody() -> None:
    paper = Builder(CandidateTable(SENTIMENT, Scoring("threshold", 1)))
    paper.fill_all("ann", paper.insert({"label": "positive"}), {"text": "fine"})
    assert fooled_rows(paper.table, {}) == []
