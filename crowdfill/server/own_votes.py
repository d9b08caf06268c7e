"""What a joining worker's snapshot says about their own votes (docs/protocol.md, ``snapshot``).

Each standing vote names a row holding exactly its values, so the page can offer "undo": a retract
must name such a row, and a downvote counted through a part of a row belongs to the part's row,
which a fill may since have replaced (a replaced row can still be named). The tombstones let the
page refuse re-casting a retracted vote before the server would.
"""

from __future__ import annotations

from typing import Any

from crowdfill.model import CandidateTable, Values


def add_row_ids(table: CandidateTable, worker: str, my_votes: list[dict[str, Any]]) -> None:
    """Give each of ``worker``'s vote entries (in ``vote_records`` order) the id of a row with its values."""
    if not my_votes:
        return
    wanted = {values for voter, _, values in table.vote_records() if voter == worker}
    holder: dict[Values, str] = {}
    for row in table.all_rows():
        # A live row is the natural one to name; a replaced one only when no live row holds the values.
        if row.values in wanted and (row.values not in holder or holder[row.values] not in table):
            holder[row.values] = row.row_id
    mine = [values for voter, _, values in table.vote_records() if voter == worker]
    for entry, values in zip(my_votes, mine, strict=True):
        if values in holder:
            entry["row_id"] = holder[values]


def retracted(table: CandidateTable, worker: str) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "values": table.schema.ordered(values)}
        for voter, kind, values in table.retractions()
        if voter == worker
    ]
