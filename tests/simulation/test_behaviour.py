"""A simulated worker's decisions, one look at a table at a time."""

from __future__ import annotations

import random
from collections.abc import Mapping
from itertools import count

from crowdfill.model import CandidateTable, Downvote, Fill, Insert, Template, Upvote
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.simulation.behaviour import Behaviour
from crowdfill.simulation.crowd import WorkerProfile
from crowdfill.simulation.truth import generate_soccer_truth

TRUTH = generate_soccer_truth(10, random.Random(0))
KNOWN = TRUTH.rows[0]
KEY = {name: dict(KNOWN)[name] for name in SOCCER_PLAYER.key}


def _worker(mix: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Behaviour:
    profile = WorkerProfile("w1", 1.0, mix, 10.0, (KNOWN,))
    return Behaviour(profile, TRUTH, random.Random(0))


def _table(*rows: Mapping[str, object]) -> CandidateTable:
    template = Template.define(SOCCER_PLAYER, [KEY])
    table = CandidateTable(SOCCER_PLAYER, template=template)
    for number, row in enumerate(rows):
        table.apply(Insert(f"r{number}", SOCCER_PLAYER.normalise_values(row)))
    return table


def _ids() -> str:
    return f"n{next(_COUNTER)}"


_COUNTER = count()


def test_a_worker_fills_a_row_they_know_with_the_right_value() -> None:
    table = _table(KEY)
    action = _worker().decide(table, _ids)
    assert action is not None
    assert isinstance(action.operation, Fill)
    assert action.correct
    assert (action.operation.column, action.operation.value) in KNOWN
    table.apply(action.operation)


def test_a_worker_upvotes_the_right_row_and_downvotes_a_wrong_one_but_never_twice() -> None:
    wrong = dict(KNOWN) | {"caps": int(dict(KNOWN)["caps"]) + 1}
    table = _table(dict(KNOWN), wrong)
    worker = _worker()
    kinds = []
    for _ in range(4):
        action = worker.decide(table, _ids)
        if action is None:
            break
        assert isinstance(action.operation, Upvote | Downvote)
        assert action.correct
        kinds.append(type(action.operation).__name__)
        table.apply(action.operation)
    assert sorted(kinds) == ["Downvote", "Upvote"]


def test_a_worker_has_nothing_to_do_on_rows_they_do_not_know() -> None:
    other = dict(TRUTH.rows[1])
    assert _worker().decide(_table(other), _ids) is None


def test_a_worker_who_only_fills_does_not_vote() -> None:
    table = _table(dict(KNOWN))
    assert _worker(mix=(1.0, 0.0, 0.0)).decide(table, _ids) is None
