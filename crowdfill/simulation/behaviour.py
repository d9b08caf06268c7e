"""What a simulated worker does next, decided from the table as that worker sees it.

A worker knows some truth rows. For a row whose key they know (or, for a row without a complete
key, a known row it could become) they judge whether its values are right; the judgement is right
with the worker's accuracy and, once made, kept. They fill empty cells of rows they judge right
(key columns first; on rows without a key, only towards keys the table does not hold yet), upvote
complete rows they judge right and downvote rows they judge wrong. Decisions use only what a
browser shows (the rows, the worker's own votes, whether values are the template's) and produce
the model operations a real worker's browser sends.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from crowdfill.model import CandidateTable, Downvote, Fill, Row, Upvote, Value, Values
from crowdfill.simulation.crowd import WorkerProfile, answer
from crowdfill.simulation.truth import Truth

Kind = Literal["fill", "upvote", "downvote"]
KINDS: tuple[Kind, ...] = ("fill", "upvote", "downvote")


@dataclass(frozen=True)
class Action:
    """A worker's next operation, and whether it is right according to the truth."""

    kind: Kind
    operation: Fill | Upvote | Downvote
    correct: bool


@dataclass(frozen=True)
class _Option:
    row: Row
    known: Values


class Behaviour:
    """One worker's decision procedure; ``rng`` is the worker's own random stream."""

    def __init__(
        self,
        profile: WorkerProfile,
        truth: Truth,
        rng: random.Random,
        judgements: dict[Values, bool] | None = None,
    ) -> None:
        self.profile = profile
        self.truth = truth
        self.rng = rng
        self._by_key: dict[tuple[Value, ...], Values] = {}
        for row in profile.known:
            key = truth.schema.key_of(row)
            assert key is not None  # truth rows are complete
            self._by_key[key] = row
        # A sybil's ids pass one shared dict: one person, one set of judgements.
        self._judgements: dict[Values, bool] = {} if judgements is None else judgements

    def judges_right(self, values: Values, known: Values) -> bool:
        """Whether this worker takes ``values`` for (part of) the known row ``known``."""
        judged = self._judgements.get(values)
        if judged is None:
            judged = (values <= known) == (self.rng.random() < self.profile.accuracy)
            self._judgements[values] = judged
        return judged

    def decide(self, table: CandidateTable, new_row_id: Callable[[], str]) -> Action | None:
        """The next action on ``table``, or None when the worker sees nothing to do."""
        schema = table.schema
        worker = self.profile.worker
        rows = table.rows()
        present = {group[1] for group in table.groups() if group[0] == "key"}
        voted = [row.values for row in rows if table.worker_counted(worker, row.values)]
        settled: set[tuple[Value, ...]] = set()
        options: dict[Kind, list[_Option]] = {kind: [] for kind in KINDS}
        keyed: list[tuple[Row, tuple[Value, ...], Values]] = []
        for row in rows:
            key = schema.key_of(row.values)
            if key is None:
                for known in self.profile.known:
                    if row.values <= known and schema.key_of(known) not in present:
                        options["fill"].append(_Option(row, known))
                continue
            known_row = self._by_key.get(key)
            if known_row is None:
                continue
            keyed.append((row, key, known_row))
            if schema.is_complete(row.values) and self.judges_right(row.values, known_row):
                settled.add(key)
        for row, key, known_row in keyed:
            values = row.values
            if self.judges_right(values, known_row):
                if not schema.is_complete(values):
                    # A worker who sees a complete row they take for right votes on it; they do not
                    # type the same row again.
                    if key not in settled:
                        options["fill"].append(_Option(row, known_row))
                elif values not in voted:
                    options["upvote"].append(_Option(row, known_row))
            elif not table.template.protects(values) and not any(values <= v for v in voted):
                options["downvote"].append(_Option(row, known_row))
        kinds = [kind for kind in KINDS if options[kind]]
        weights = [self.profile.mix[KINDS.index(kind)] for kind in kinds]
        if not kinds or sum(weights) <= 0:
            return None
        kind = self.rng.choices(kinds, weights)[0]
        choice = self.rng.choice(options[kind])
        values = choice.row.values
        if kind == "upvote":
            return Action(kind, Upvote(worker, choice.row.row_id, values), self.truth.contains(values))
        if kind == "downvote":
            return Action(
                kind, Downvote(worker, choice.row.row_id, values), not self.truth.consistent(values)
            )
        return self._fill(table, choice, new_row_id)

    def _fill(self, table: CandidateTable, choice: _Option, new_row_id: Callable[[], str]) -> Action:
        schema = table.schema
        filled = {name for name, _ in choice.row.values}
        empty_keys = [name for name in schema.key if name not in filled]
        column = self.rng.choice(empty_keys or [name for name in schema.names if name not in filled])
        right = dict(choice.known)[column]
        value = answer(schema.column(column), right, self.profile.accuracy, self.truth, self.rng)
        values = choice.row.values | {(column, value)}
        fill = Fill(self.profile.worker, choice.row.row_id, new_row_id(), column, value, values)
        return Action("fill", fill, value == right)
