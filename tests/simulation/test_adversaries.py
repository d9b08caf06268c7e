"""Adversarial workers: spammers, "upvote everything" workers, a colluding ring and a sybil."""

from __future__ import annotations

import random
from collections.abc import Mapping
from itertools import count

import pytest

from crowdfill.model import CandidateTable, Downvote, Fill, Insert, Template, Upvote
from crowdfill.model.examples import SOCCER_PLAYER
from crowdfill.simulation.adversaries import Colluder, RingMemory, Spammer, Upvoter, behaviours
from crowdfill.simulation.baseline import run_microtask_baseline
from crowdfill.simulation.crowd import CrowdSettings, WorkerProfile, make_crowd
from crowdfill.simulation.quality import measure
from crowdfill.simulation.truth import build_template, generate_soccer_truth

TRUTH = generate_soccer_truth(10, random.Random(0))
KNOWN = TRUTH.rows[0]
KEY = {name: dict(KNOWN)[name] for name in SOCCER_PLAYER.key}
MIX = (1.0, 1.0, 1.0)
_COUNTER = count()


def _ids() -> str:
    return f"n{next(_COUNTER)}"


def _table(*rows: Mapping[str, object]) -> CandidateTable:
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, [KEY]))
    for number, row in enumerate(rows):
        table.apply(Insert(f"r{number}", SOCCER_PLAYER.normalise_values(row)))
    return table


def _profile(worker: str, kind: str = "honest", group: str | None = None) -> WorkerProfile:
    return WorkerProfile(worker, 1.0, MIX, 10.0, (KNOWN,), kind, group)  # type: ignore[arg-type]  # kind from a test parameter


def test_adversaries_join_an_unchanged_honest_crowd_under_ids_that_do_not_give_them_away() -> None:
    honest = make_crowd(TRUTH, CrowdSettings(), random.Random(3))
    mixed = make_crowd(TRUTH, CrowdSettings(spammers=0.2, ring=3, sybils=2), random.Random(3))
    assert mixed[: len(honest)] == honest
    kinds = [profile.kind for profile in mixed[len(honest) :]]
    # 20 honest + 3 ring + 2 sybil ids are 80 % of the crowd, so 25 / 0.8 * 0.2 = 6.25 spammers.
    assert kinds == ["spammer"] * 6 + ["ring"] * 3 + ["sybil"] * 2
    assert all(profile.worker.startswith("w") for profile in mixed)
    assert len({profile.worker for profile in mixed}) == len(mixed)


def test_a_sybils_ids_are_one_person_with_one_knowledge_and_one_set_of_judgements() -> None:
    crowd = make_crowd(TRUTH, CrowdSettings(workers=2, sybils=3, accuracy=(0.5, 0.5)), random.Random(1))
    sybils = [profile for profile in crowd if profile.kind == "sybil"]
    assert len({(profile.known, profile.accuracy) for profile in sybils}) == 1
    minds = behaviours(crowd, TRUTH, seed=0)[-3:]
    verdicts = set()
    for row in TRUTH.rows:
        for known in sybils[0].known:
            verdicts.add(tuple(mind.judges_right(row, known) for mind in minds))
    assert all(len(set(verdict)) == 1 for verdict in verdicts)
    assert len(verdicts) == 2  # at accuracy 0.5 the one person is sometimes right, sometimes wrong


@pytest.mark.parametrize("setting", [{"spammers": 1.0}, {"ring": 1}, {"sybils": -2}, {"upvoters": -0.1}])
def test_impossible_adversary_settings_are_refused_with_a_message(setting: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"spammers|ring|sybil"):
        CrowdSettings(**setting)  # type: ignore[arg-type]  # the parameters mix ints and floats


def test_a_spammers_fills_and_votes_are_operations_the_table_accepts() -> None:
    rows = [dict(row) for row in TRUTH.rows[1:6]]
    table = _table(KEY, {"name": "Nobody", "nationality": "Brazil"}, *rows)
    spammer = Spammer(_profile("s1", "spammer"), TRUTH, random.Random(0))
    kinds = set()
    for _ in range(40):
        action = spammer.decide(table, _ids)
        if action is None:
            break
        kinds.add(action.kind)
        table.apply(action.operation)
    assert kinds == {"fill", "upvote", "downvote"}


def test_an_upvoter_upvotes_every_complete_row_once_and_does_nothing_else() -> None:
    wrong = dict(KNOWN) | {"caps": int(dict(KNOWN)["caps"]) + 1}
    table = _table(KEY, dict(KNOWN), wrong)
    upvoter = Upvoter(_profile("u1", "upvoter"), TRUTH, random.Random(0))
    voted = []
    while (action := upvoter.decide(table, _ids)) is not None:
        assert isinstance(action.operation, Upvote)
        voted.append(action.operation.row_id)
        table.apply(action.operation)
    assert sorted(voted) == ["r1", "r2"]


def test_a_ring_upvotes_the_wrong_row_one_member_made_and_downvotes_the_right_one() -> None:
    table = _table(KEY, dict(KNOWN))
    ring = RingMemory()
    maker = Colluder(_profile("c1", "ring", "ring"), TRUTH, random.Random(0), ring)
    while (action := maker.decide(table, _ids)) is not None:
        table.apply(action.operation)
        if isinstance(action.operation, Fill) and SOCCER_PLAYER.is_complete(action.operation.values):
            break
    (made,) = [
        row for row in table.rows() if row.values in ring.made and SOCCER_PLAYER.is_complete(row.values)
    ]
    assert not TRUTH.contains(made.values)
    other = Colluder(_profile("c2", "ring", "ring"), TRUTH, random.Random(1), ring)
    votes: dict[str, type] = {}
    while (action := other.decide(table, _ids)) is not None and len(votes) < 2:
        if isinstance(action.operation, Upvote | Downvote):
            votes[action.operation.row_id] = type(action.operation)
        table.apply(action.operation)
    assert votes[made.row_id] is Upvote
    assert votes["r1"] is Downvote


def test_a_ring_agrees_on_one_wrong_answer_and_outvotes_the_microtask_majority() -> None:
    template = build_template("keys:5", TRUTH, random.Random(2))
    ring = tuple(WorkerProfile(f"r{i}", 1.0, MIX, 10.0, TRUTH.rows, "ring", "ring") for i in range(3))
    result = run_microtask_baseline(TRUTH, template, ring, 3, random.Random(0))
    assert len(result.rows) == 5
    assert measure(result.rows, TRUTH, template).correct_rows == 0
    # The same workers answering alone (no ring) are perfectly accurate.
    alone = tuple(WorkerProfile(f"r{i}", 1.0, MIX, 10.0, TRUTH.rows) for i in range(3))
    assert (
        measure(
            run_microtask_baseline(TRUTH, template, alone, 3, random.Random(0)).rows, TRUTH, template
        ).precision
        == 1.0
    )
