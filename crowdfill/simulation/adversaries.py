"""Adversarial workers of the simulated crowd (docs/simulation.md, "Adversaries").

- a **spammer** fills random cells with random values of the column and votes at random;
- an **upvoter** upvotes every complete row they have not voted on, and does nothing else;
- a **ring** of colluders: each member types a wrong value into a row they know (or completes a row
  the ring already made wrong), upvotes every complete row the ring made and downvotes the rows
  competing with them;
- a **sybil** is one honest-but-fallible person behind several ids: the ids share the person's
  knowledge and every judgement, so each mistake is voted once per id.

Every decision uses only what a browser shows, plus what the ring members tell each other.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from crowdfill.model import CandidateTable, Downvote, Fill, Row, Upvote, Value, Values
from crowdfill.simulation.behaviour import KINDS, Action, Behaviour, Kind
from crowdfill.simulation.crowd import WorkerProfile, mistake
from crowdfill.simulation.streams import stream
from crowdfill.simulation.truth import Truth


def behaviours(crowd: tuple[WorkerProfile, ...], truth: Truth, seed: int) -> list[Behaviour]:
    """Each worker's decision procedure, on their own random stream; groups share their memory."""
    sybil_judgements: dict[Values, bool] = {}
    ring = RingMemory()
    made: list[Behaviour] = []
    for profile in crowd:
        rng = stream(seed, f"worker:{profile.worker}")
        if profile.kind == "spammer":
            made.append(Spammer(profile, truth, rng))
        elif profile.kind == "upvoter":
            made.append(Upvoter(profile, truth, rng))
        elif profile.kind == "ring":
            made.append(Colluder(profile, truth, rng, ring))
        elif profile.kind == "sybil":
            made.append(Behaviour(profile, truth, rng, sybil_judgements))
        else:
            made.append(Behaviour(profile, truth, rng))
    return made


class RingMemory:
    """What the colluders tell each other: the value sets they made."""

    def __init__(self) -> None:
        self.made: set[Values] = set()


def _complete_unvoted(table: CandidateTable, worker: str) -> list[Row]:
    schema = table.schema
    return [
        row
        for row in table.rows()
        if schema.is_complete(row.values) and not table.worker_counted(worker, row.values)
    ]


def _vote(kind: Kind, worker: str, row: Row, truth: Truth) -> Action:
    if kind == "upvote":
        return Action(kind, Upvote(worker, row.row_id, row.values), truth.contains(row.values))
    return Action(kind, Downvote(worker, row.row_id, row.values), not truth.consistent(row.values))


def _fill(
    worker: str, row: Row, column: str, value: Value, new_row_id: Callable[[], str], correct: bool
) -> Action:
    values = row.values | {(column, value)}
    return Action("fill", Fill(worker, row.row_id, new_row_id(), column, value, values), correct)


class Spammer(Behaviour):
    def decide(self, table: CandidateTable, new_row_id: Callable[[], str]) -> Action | None:
        schema, worker, rng = table.schema, self.profile.worker, self.rng
        options: dict[Kind, list[Row]] = {
            "fill": [row for row in table.rows() if not schema.is_complete(row.values)],
            "upvote": _complete_unvoted(table, worker),
            "downvote": [
                row for row in _complete_unvoted(table, worker) if not table.template.protects(row.values)
            ],
        }
        kind = _pick(options, self.profile.mix, rng)
        if kind is None:
            return None
        row = rng.choice(options[kind])
        if kind != "fill":
            return _vote(kind, worker, row, self.truth)
        filled = {name for name, _ in row.values}
        column = rng.choice([name for name in schema.names if name not in filled])
        spec = schema.column(column)
        pool = spec.domain if spec.domain is not None else self.truth.column_values(column)
        value = rng.choice(pool) if pool else mistake(spec, "x", self.truth, rng)
        return _fill(
            worker, row, column, value, new_row_id, self.truth.consistent(row.values | {(column, value)})
        )


class Upvoter(Behaviour):
    def decide(self, table: CandidateTable, new_row_id: Callable[[], str]) -> Action | None:
        rows = _complete_unvoted(table, self.profile.worker)
        if not rows:
            return None
        return _vote("upvote", self.profile.worker, self.rng.choice(rows), self.truth)


class Colluder(Behaviour):
    def __init__(self, profile: WorkerProfile, truth: Truth, rng: random.Random, ring: RingMemory) -> None:
        super().__init__(profile, truth, rng)
        self.ring = ring

    def decide(self, table: CandidateTable, new_row_id: Callable[[], str]) -> Action | None:
        schema, worker, rng, made = table.schema, self.profile.worker, self.rng, self.ring.made
        ring_keys = {schema.key_of(values) for values in made}
        fills: list[tuple[Row, Values]] = []
        ups: list[Row] = []
        downs: list[Row] = []
        for row in table.rows():
            key = schema.key_of(row.values)
            known = self._by_key.get(key) if key is not None else None
            if known is None:
                continue
            if not schema.is_complete(row.values):
                if row.values <= known or row.values in made:
                    fills.append((row, known))
            elif not table.worker_counted(worker, row.values):
                if row.values in made:
                    ups.append(row)
                elif key in ring_keys and not table.template.protects(row.values):
                    downs.append(row)
        options: dict[Kind, list[Row]] = {"fill": [row for row, _ in fills], "upvote": ups, "downvote": downs}
        kind = _pick(options, self.profile.mix, rng)
        if kind is None:
            return None
        if kind != "fill":
            return _vote(kind, worker, rng.choice(options[kind]), self.truth)
        row, known = rng.choice(fills)
        filled = {name for name, _ in row.values}
        column = rng.choice([name for name in schema.names if name not in filled])
        right = dict(known)[column]
        # One wrong value makes the row the ring's; the rest is typed right, to look plausible.
        value = right if row.values in made else mistake(schema.column(column), right, self.truth, rng)
        action = _fill(worker, row, column, value, new_row_id, value == right)
        assert isinstance(action.operation, Fill)
        made.add(action.operation.values)
        return action


def _pick(options: dict[Kind, list[Row]], mix: tuple[float, float, float], rng: random.Random) -> Kind | None:
    kinds = [kind for kind in KINDS if options[kind]]
    weights = [mix[KINDS.index(kind)] for kind in kinds]
    if not kinds or sum(weights) <= 0:
        return None
    return rng.choices(kinds, weights)[0]
