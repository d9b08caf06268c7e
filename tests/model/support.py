"""Builders and from-scratch reference computations shared by the model tests."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping

import networkx as nx

from crowdfill.model import (
    CandidateTable,
    Downvote,
    Event,
    Fill,
    Insert,
    Operation,
    Row,
    Scoring,
    Template,
    Upvote,
    Value,
    Values,
)
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from crowdfill.model.values import sort_key


class Builder:
    """Applies operations to a table the way the server would, with fresh row ids."""

    def __init__(self, table: CandidateTable, prefix: str = "r") -> None:
        self.table = table
        self.log: list[Operation] = []  # the accepted operations in canonical form, in order
        self._ids: Iterator[int] = itertools.count(1)
        self._prefix = prefix

    def apply(self, op: Operation) -> list[Event]:
        canonical = self.table.validate(op)
        self.log.append(canonical)
        return self.table.integrate(canonical)

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._ids)}"

    def insert(self, values: Mapping[str, Value] | None = None) -> str:
        row_id = self.new_id()
        self.apply(Insert(row_id, frozenset((values or {}).items())))
        return row_id

    def fill(self, worker: str, row_id: str, column: str, value: Value) -> str:
        new_id = self.new_id()
        self.apply(Fill(worker, row_id, new_id, column, value, frozenset()))
        return new_id

    def fill_all(self, worker: str, row_id: str, values: Mapping[str, Value]) -> str:
        """Fill ``values`` into ``row_id`` one cell at a time; return the last row's id."""
        for column, value in values.items():
            row_id = self.fill(worker, row_id, column, value)
        return row_id

    def row_with(self, worker: str, values: Mapping[str, Value]) -> str:
        """A new empty row filled with ``values`` by ``worker``."""
        return self.fill_all(worker, self.insert(), values)

    def upvote(self, worker: str, row_id: str) -> list[Event]:
        return self.apply(Upvote(worker, row_id, frozenset()))

    def downvote(self, worker: str, row_id: str) -> list[Event]:
        return self.apply(Downvote(worker, row_id, frozenset()))


MESSI: dict[str, Value] = {
    "name": "Messi",
    "nationality": "Argentina",
    "position": "FW",
    "caps": 83,
    "goals": 37,
}
RONALDINHO_MF: dict[str, Value] = {
    "name": "Ronaldinho",
    "nationality": "Brazil",
    "position": "MF",
    "caps": 97,
    "goals": 33,
}
RONALDINHO_FW: dict[str, Value] = {**RONALDINHO_MF, "position": "FW"}
NEYMAR: dict[str, Value] = {"name": "Neymar", "nationality": "Brazil"}
CASILLAS: dict[str, Value] = {
    "name": "Casillas",
    "nationality": "Spain",
    "position": "GK",
    "caps": 167,
    "goals": 0,
}
BECKHAM: dict[str, Value] = {
    "name": "Beckham",
    "nationality": "England",
    "position": "MF",
    "caps": 115,
    "goals": 17,
}


def soccer_table(scoring: Scoring | None = None) -> CandidateTable:
    template = Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS)
    return CandidateTable(SOCCER_PLAYER, scoring or Scoring(), template)


def values(mapping: Mapping[str, Value]) -> Values:
    return frozenset(mapping.items())


def recount(
    table: CandidateTable, counted: Callable[[str], bool] = lambda worker: True
) -> dict[str, tuple[int, int]]:
    """u and d of every live row, straight from the vote records (the definition in DESIGN §2),
    counting only the voters ``counted`` accepts."""
    records = [record for record in table.vote_records() if counted(record[0])]
    counts = {}
    for row in table.rows():
        up = {w for w, kind, v in records if kind == "up" and v == row.values}
        down = {w for w, kind, v in records if kind == "down" and v <= row.values}
        counts[row.row_id] = (len(up), len(down))
    return counts


def weighted_recount(table: CandidateTable) -> dict[str, tuple[float, float]]:
    """u and d of every live row as sums of the voters' weights (``reputation`` scoring)."""
    records = table.vote_records()
    counts = {}
    for row in table.rows():
        up = {w for w, kind, v in records if kind == "up" and v == row.values}
        down = {w for w, kind, v in records if kind == "down" and v <= row.values}
        counts[row.row_id] = (
            math.fsum(table.weight(w) for w in up),
            math.fsum(table.weight(w) for w in down),
        )
    return counts


def naive_final_choices(table: CandidateTable) -> dict[object, list[str]]:
    """Key group -> the row ids its final row may be, from scratch (crowdfill.model.ties).

    The winners are a group's distinct complete value sets of its highest, positive score, each
    represented by its smallest row id, in canonical order. The group's final row is the first
    winner's, unless the winners serve different template rows: then it may be any winner's.
    """
    schema, scoring, template = table.schema, table.scoring, table.template
    counts: dict[str, tuple[float, float]] = dict(recount(table))
    if scoring.family == "reputation":
        counts = weighted_recount(table)
    else:
        # A worker at weight 0 (quarantined or excluded) counts in no family.
        counts = dict(recount(table, counted=lambda worker: table.weight(worker) != 0.0))
    groups: dict[object, list[Row]] = {}
    for row in table.rows():
        if table.is_gold(row.row_id):
            continue  # gold rows belong to no group
        key = schema.key_of(row.values)
        groups.setdefault(("key", key) if key is not None else ("row", row.row_id), []).append(row)
    choices: dict[object, list[str]] = {}
    for group, members in groups.items():
        scores = {row.row_id: scoring.score(*counts[row.row_id]) for row in members}
        best = max(scores.values())
        first: dict[Values, str] = {}
        for row in members:
            if scores[row.row_id] == best and schema.is_complete(row.values):
                first[row.values] = min(first.get(row.values, row.row_id), row.row_id)
        if best <= 0 or not first:
            continue
        winners = sorted(first, key=sort_key)
        served = {frozenset(p for p, wanted in enumerate(template.rows) if wanted <= v) for v in winners}
        choices[group] = [first[v] for v in winners] if len(served) > 1 else [first[winners[0]]]
    return choices


def served_count(template: Template, rows: Iterable[Values]) -> int:
    """How many template rows a maximum matching of distinct ``rows`` ⊇ them serves (Hopcroft-Karp)."""
    graph = nx.Graph()
    top = [("t", p) for p in range(len(template.rows))]
    graph.add_nodes_from(top)
    for index, values in enumerate(rows):
        for position, wanted in enumerate(template.rows):
            if wanted <= values:
                graph.add_edge(("t", position), ("r", index))
    pairs = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=top)
    return sum(1 for node in top if node in pairs)


def check_final_table(table: CandidateTable) -> None:
    """The final table follows the documented choice: one allowed row per group, and among the
    choices of tied winners, one that serves as many template rows as any (brute force)."""
    choices = naive_final_choices(table)
    final = {table.group_of(row.row_id): row.row_id for row in table.final_table()}
    assert final.keys() == choices.keys()
    for group, row_id in final.items():
        assert row_id in choices[group], (group, row_id, choices[group])
    best = max(
        served_count(table.template, (table.row(r).values for r in pick))
        for pick in itertools.product(*choices.values())
    )
    assert served_count(table.template, (table.row(r).values for r in final.values())) == best
