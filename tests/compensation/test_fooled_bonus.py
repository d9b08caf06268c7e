"""The fooled-the-model bonus: a requester-set share of the budget for rows the model got wrong."""

from __future__ import annotations

import pytest

from crowdfill.compensation import CompensationSettings, Estimator, InvalidCompensation, settle
from crowdfill.model import (
    MODEL_WORKER,
    Annotate,
    CandidateTable,
    Fill,
    Insert,
    Operation,
    Scoring,
    Template,
    Upvote,
)
from crowdfill.model.examples import SENTIMENT
from crowdfill.model.values import values_from_mapping


class Dadc:
    """A sentiment table with two template rows, written by workers, predicted by the model."""

    def __init__(self) -> None:
        template = Template.define(SENTIMENT, [{"label": "positive"}, {"label": "negative"}])
        self.table = CandidateTable(SENTIMENT, Scoring("threshold", min_votes=1), template=template)
        self.log: list[Operation] = []
        self._ids = 0

    def do(self, op: Operation) -> None:
        canonical = self.table.validate(op)
        self.table.integrate(canonical)
        self.log.append(canonical)

    def write(self, worker: str, label: str, text: str, predicted: str, voter: str) -> str:
        self._ids += 1
        template_id = f"t{self._ids}"
        self.do(Insert(template_id, values_from_mapping({"label": label})))
        row_id = f"r{self._ids}"
        values = values_from_mapping({"label": label, "text": text})
        self.do(Fill(worker, template_id, row_id, "text", text, values))
        self.do(Annotate(MODEL_WORKER, row_id, "prediction", "label", predicted, 0.9, values))
        self.do(Upvote(voter, row_id, values))
        return row_id

    def settle(self, share: float, budget: int = 1000) -> dict[str, object]:
        settings = CompensationSettings(budget_cents=budget, fooled_bonus_share=share)
        return settle(self.table, self.log, settings, completed=True).to_dict()


def test_the_bonus_pool_goes_to_the_writer_of_the_row_that_fooled_the_model() -> None:
    table = Dadc()
    fooled = table.write("ann", "positive", "sick, brutal, I loved it", predicted="negative", voter="cid")
    table.write("ben", "negative", "awful", predicted="negative", voter="cid")

    with_bonus = table.settle(0.3)
    without = table.settle(0)

    bonus = with_bonus["fooled_bonus"]
    assert bonus == {"share": 0.3, "pool_cents": 300, "rows": [fooled], "payments": {"ann": 300}}
    payments = with_bonus["payments"]
    assert isinstance(payments, dict)
    assert sum(payments.values()) == 1000
    # Ann gets the pool and her part of the other 700 cents; without the bonus she shares 1000.
    assert payments["ann"] > without["payments"]["ann"]  # type: ignore[index]
    assert payments["ben"] < without["payments"]["ben"]  # type: ignore[index]
    assert "fooled_bonus" not in without


def test_no_fooled_row_sets_nothing_aside() -> None:
    table = Dadc()
    table.write("ann", "positive", "lovely", predicted="positive", voter="ben")

    settled = table.settle(0.5)

    assert settled["fooled_bonus"] == {"share": 0.5, "pool_cents": 0, "rows": [], "payments": {}}
    assert settled["payments"] == table.settle(0)["payments"]


def test_the_pool_is_split_equally_over_the_fooled_rows() -> None:
    table = Dadc()
    table.write("ann", "positive", "sick", predicted="negative", voter="cid")
    table.write("ann", "negative", "great, just great", predicted="positive", voter="cid")
    table.write("ben", "positive", "wicked", predicted="negative", voter="cid")

    bonus = table.settle(0.25, budget=999)["fooled_bonus"]

    assert isinstance(bonus, dict)
    assert bonus["pool_cents"] == 249
    assert bonus["payments"] == {"ann": 166, "ben": 83}


def test_the_live_estimates_reserve_the_pool() -> None:
    table = Dadc()
    table.write("ann", "positive", "sick", predicted="negative", voter="cid")
    plain = Estimator(table.table, CompensationSettings(budget_cents=1000), table.log)
    reserved = Estimator(
        table.table, CompensationSettings(budget_cents=1000, fooled_bonus_share=0.4), table.log
    )

    assert reserved.estimate("ann")["total"] < plain.estimate("ann")["total"]
    assert reserved.settlement().fooled_bonus.payments == {"ann": 400}


@pytest.mark.parametrize("share", [-0.1, 1, 1.5, True])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(InvalidCompensation, match="fooled_bonus_share"):
        CompensationSettings(budget_cents=100, fooled_bonus_share=share)
