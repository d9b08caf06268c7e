"""From-scratch recomputation with networkx's Hopcroft-Karp: the baseline the incremental client beats.

Used by the benchmark (and the tests) to check and time what a client without incremental upkeep
would do after every operation: rebuild the template-row / key-group graph and match it again.
"""

from __future__ import annotations

import networkx as nx

from crowdfill.central_client.template_index import TemplateIndex
from crowdfill.model import CandidateTable, GroupKey

TemplateNode = tuple[str, int]
GroupNode = tuple[str, GroupKey]


def probable_graph(table: CandidateTable, index: TemplateIndex | None = None) -> nx.Graph:
    """Template positions ("t", pos) and key groups ("g", group), joined where a probable row ⊇ t
    that the voters did not disown (``CandidateTable.disowned``)."""
    index = index if index is not None else TemplateIndex(table.schema, table.template)
    graph = nx.Graph()
    graph.add_nodes_from(("t", position) for position in range(len(table.template.rows)))
    for group in table.groups():
        classes: set[int] = set()
        for row in table.probable_rows(group):
            if not table.disowned(row.row_id):
                classes |= index.classes_within(row.values)
        for class_index in classes:
            for position in index.classes[class_index].positions:
                graph.add_edge(("t", position), ("g", group))
    return graph


def maximum_matching(graph: nx.Graph) -> dict[int, GroupKey]:
    """A maximum matching of ``probable_graph`` by Hopcroft-Karp, as template position -> group."""
    top = [node for node in graph if node[0] == "t"]
    pairs = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=top)
    return {node[1]: pairs[node][1] for node in top if node in pairs}
