"""Brute-force re-derivations the central client's tests check it against.

Everything here is recomputed from the table alone, the slow and obvious way, independently of the
client's indexes: edges from every live row, counts from the raw vote records, matchings by
networkx's Hopcroft-Karp.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx

from crowdfill.model import CandidateTable, GroupKey, Values
from crowdfill.model.scoring import Score


def key_group(table: CandidateTable, position: int) -> GroupKey | None:
    key = table.schema.key_of(table.template.rows[position])
    return ("key", key) if key is not None else None


def probable_edges(table: CandidateTable) -> dict[int, set[GroupKey]]:
    """Template position -> groups holding a probable row that contains the template row (a row the
    voters disowned serves none)."""
    edges: dict[int, set[GroupKey]] = {p: set() for p in range(len(table.template.rows))}
    for row in table.rows():
        if not table.status(row.row_id).probable or disowned(table, row.row_id):
            continue
        for position, wanted in enumerate(table.template.rows):
            if wanted <= row.values:
                edges[position].add(table.group_of(row.row_id))
    return edges


def disowned(table: CandidateTable, row_id: str) -> bool:
    """An incomplete row whose standing downvotes outweigh its upvotes, from the raw records."""
    values = table.row(row_id).values
    records = standing_records(table)
    up = {w for w, kind, voted in records if kind == "up" and voted == values}
    down = {w for w, kind, voted in records if kind == "down" and voted <= values}
    if table.schema.is_complete(values):
        return False
    if table.scoring.family == "reputation":
        return math.fsum(table.weight(w) for w in down) > math.fsum(table.weight(w) for w in up)
    counted = [len([w for w in voters if table.weight(w) != 0.0]) for voters in (up, down)]
    return counted[1] > counted[0]


def maximum_matching_size(edges: dict[int, set[GroupKey]], excluded: set[GroupKey] | None = None) -> int:
    graph = nx.Graph()
    graph.add_nodes_from(("t", p) for p in edges)
    for position, groups in edges.items():
        for group in groups - (excluded or set()):
            graph.add_edge(("t", position), ("g", group))
    pairs = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=[("t", p) for p in edges])
    return sum(1 for p in edges if ("t", p) in pairs)


def standing_records(table: CandidateTable) -> list[tuple[str, str, Values]]:
    """The vote records that count: every record not covered by a retract's tombstone."""
    tombstones = set(table.retractions())
    return [record for record in table.vote_records() if record not in tombstones]


def arrival_score(table: CandidateTable, values: Values) -> Score:
    """Score of a new row with ``values``: u and d straight from the standing records (DESIGN §2),
    as sums of the voters' weights under ``reputation`` scoring, else counts of the voters whose
    weight is not 0 (quarantined and excluded workers count in no family)."""
    records = standing_records(table)
    up = {w for w, kind, voted in records if kind == "up" and voted == values}
    down = {w for w, kind, voted in records if kind == "down" and voted <= values}
    if table.scoring.family == "reputation":
        return table.scoring.score(
            math.fsum(table.weight(w) for w in up), math.fsum(table.weight(w) for w in down)
        )
    counted = [len([w for w in voters if table.weight(w) != 0.0]) for voters in (up, down)]
    return table.scoring.score(*counted)


def best_score(table: CandidateTable, group: GroupKey) -> Score | None:
    scores = [table.score(row.row_id) for row in table.group_rows(group)]
    return max(scores) if scores else None


def waiting_positions(table: CandidateTable) -> set[int]:
    """Key-fixing template rows with no probable row ⊇ them whose insert would arrive yellow or red."""
    edges = probable_edges(table)
    waiting: set[int] = set()
    for position, values in enumerate(table.template.rows):
        group = key_group(table, position)
        if group is None or edges[position]:
            continue
        score = arrival_score(table, values)
        best = best_score(table, group)
        if score < 0 or (best is not None and best > score):
            waiting.add(position)
    return waiting


def minimal_insert_count(table: CandidateTable) -> int:
    """The fewest template-row inserts after which every template row that can be served is served.

    A key-fixing row with no edge needs its own insert (only its group can serve it, and only a row
    with its values can be put there). The other rows then need one new group per row that a
    maximum matching over the groups left free by key-fixing rows cannot cover.
    """
    edges = probable_edges(table)
    waiting = waiting_positions(table)
    forced: set[GroupKey] = set()
    needed_for_keys = 0
    free_rows: dict[int, set[GroupKey]] = {}
    for position in edges:
        group = key_group(table, position)
        if group is None:
            free_rows[position] = edges[position]
        elif position not in waiting:
            forced.add(group)
            needed_for_keys += 0 if edges[position] else 1
    return needed_for_keys + len(free_rows) - maximum_matching_size(free_rows, forced)


def final_satisfies(table: CandidateTable) -> bool:
    rows = [(row.row_id, row.values) for row in table.final_table()]
    return table.template.matching(rows) is not None


def tied_winners(table: CandidateTable) -> dict[GroupKey, list[Values]]:
    """Key group -> its distinct complete value sets of the group's highest, positive score.

    Scores straight from the vote records; any of them may be the group's final row as far as the
    template is concerned (the model breaks the tie toward the template).
    """
    winners: dict[GroupKey, list[Values]] = {}
    for group in table.groups():
        rows = table.group_rows(group)
        scores = {row.values: arrival_score(table, row.values) for row in rows}
        best = max(scores.values())
        complete = [v for v, score in scores.items() if score == best and table.schema.is_complete(v)]
        if best > 0 and complete:
            winners[group] = complete
    return winners


def some_tie_choice_satisfies(table: CandidateTable) -> bool:
    """Whether some choice of one tied winner per group gives a final table satisfying the template."""
    template = table.template
    choices = list(tied_winners(table).values())
    for pick in itertools.product(*choices):
        edges: dict[int, set[GroupKey]] = {
            p: {("row", str(i)) for i, values in enumerate(pick) if wanted <= values}
            for p, wanted in enumerate(template.rows)
        }
        if maximum_matching_size(edges) == len(template.rows):
            return True
    return False
