"""Who earns a part of one final (or probable) row: its fillers and its agreeing voters.

- The value of column c earns its part for the worker who entered it along the chain of replaced
  rows that led to the first row holding the final values; template values earn nothing.
- An agreeing voter explicitly upvoted the final values, or downvoted a rival of the same key group
  (values with the row's key that the final row does not contain). The filler's automatic upvote
  is not a vote for pay. A worker who also voted against the outcome in that group (upvoted a rival,
  or is counted in the final row's downvotes) is not an agreeing voter: hedging earns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.compensation.ledger import Key, Ledger
from crowdfill.model.operations import CENTRAL_CLIENT
from crowdfill.model.row import Row
from crowdfill.model.table import CandidateTable


@dataclass(frozen=True)
class RowCredit:
    row_id: str
    key: Key
    paid_row_id: str
    fillers: tuple[tuple[str, str | None], ...]  # (column, worker or None), in schema order
    voters: tuple[str, ...]  # sorted


def credit(ledger: Ledger, table: CandidateTable, row: Row) -> RowCredit:
    schema = ledger.schema
    key = schema.key_of(row.values)
    if key is None:  # pragma: no cover - only complete rows are credited
        raise ValueError("only rows with a complete key are credited")
    paid = ledger.first_row.get(row.values, row.row_id)
    entered = ledger.fillers(paid) if ledger.knows(paid) else {}
    fillers = tuple((name, entered.get(name)) for name in schema.names)
    return RowCredit(row.row_id, key, paid, fillers, agreeing_voters(ledger, table, row, key))


def agreeing_voters(ledger: Ledger, table: CandidateTable, row: Row, key: Key) -> tuple[str, ...]:
    agreeing = set(ledger.explicit_up.get(row.values, ()))
    against = set(table.downvoters(row.row_id))
    for vote in ledger.downs.get(key, ()):
        if not vote.values <= row.values:
            agreeing.add(vote.worker)
    for vote in ledger.ups.get(key, ()):
        if vote.values != row.values:
            against.add(vote.worker)
    agreeing -= against
    agreeing.discard(CENTRAL_CLIENT)
    return tuple(sorted(agreeing))
