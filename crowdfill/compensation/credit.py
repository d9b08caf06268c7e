"""Who earns a part of one final (or probable) row: its fillers and its agreeing voters.

- The value of column c earns its part for the worker who entered it along the chain of replaced
  rows that led to the first row holding the final values; template values earn nothing.
- An agreeing voter explicitly upvoted the final values, or downvoted a rival of the same key group
  (values with the row's key that the final row does not contain). The filler's automatic upvote
  is not a vote for pay. A worker who also voted against the outcome in that group (upvoted a rival,
  or is counted in the final row's downvotes) is not an agreeing voter: hedging earns nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Protocol

from crowdfill.compensation.ledger import Key, Ledger, votes
from crowdfill.model.operations import CENTRAL_CLIENT
from crowdfill.model.row import Row
from crowdfill.model.table import CandidateTable


class Downvoted(Protocol):
    """Where a row's downvoters are read: the candidate table, or what it said at some moment
    (the estimator's deferred operations, ``crowdfill.compensation.estimator``)."""

    def downvoters(self, row_id: str) -> Set[str]: ...


@dataclass(frozen=True)
class RowCredit:
    row_id: str
    key: Key
    paid_row_id: str
    fillers: tuple[tuple[str, str | None], ...]  # (column, worker or None), in schema order
    voters: tuple[str, ...]  # sorted


def credit(ledger: Ledger, table: Downvoted, row: Row) -> RowCredit:
    return credits(ledger, table, (row,))[0]


def credits(ledger: Ledger, table: Downvoted, rows: Iterable[Row]) -> list[RowCredit]:
    """``credit`` of each row, in order: the settlement credits every final row (tens of thousands
    on a big table), so the lookups are hoisted out of the per-row work and the agreeing voters
    are found inline (``agreeing_voters`` is the reference formula)."""
    schema = ledger.schema
    names = schema.names
    key_names = schema.key
    first_row = ledger.first_row
    fillers_of = ledger.fillers
    known = ledger.rows
    explicit_up = ledger.explicit_up
    ups = ledger.ups
    downs = ledger.downs
    downvoters = table.downvoters
    result: list[RowCredit] = []
    for row in rows:
        values = row.values
        present = dict(values)
        try:
            key = tuple([present[name] for name in key_names])
        except KeyError:  # pragma: no cover - only complete rows are credited
            raise ValueError("only rows with a complete key are credited") from None
        row_id = row.row_id
        paid = first_row.get(values, row_id)
        entered = fillers_of(paid) if paid in known else {}
        fillers = tuple([(name, entered.get(name)) for name in names])
        explicit = explicit_up.get(values)
        agreeing = set(explicit) if explicit else set()
        key_downs = downs.get(key)
        if key_downs:
            # The ledger's value sets are mostly the table's own objects: ``is`` settles most
            # comparisons before a frozenset compares its items.
            agreeing.update(
                [worker for worker, voted in votes(key_downs) if voted is not values and not voted <= values]
            )
        voters: tuple[str, ...] = ()
        if agreeing:  # else nothing can be taken away: spare the final row's downvoters
            agreeing -= downvoters(row_id)
            agreeing.difference_update(
                [
                    worker
                    for worker, voted in votes(ups.get(key, ()))
                    if voted is not values and voted != values
                ]
            )
            agreeing.discard(CENTRAL_CLIENT)
            voters = tuple(sorted(agreeing))
        result.append(RowCredit(row_id, key, paid, fillers, voters))
    return result


def agreeing_voters(ledger: Ledger, table: CandidateTable, row: Row, key: Key) -> tuple[str, ...]:
    """The reference formula of a row's agreeing voters (``credits`` computes the same, faster)."""
    agreeing = set(ledger.explicit_up.get(row.values, ()))
    against = set(table.downvoters(row.row_id))
    for worker, values in votes(ledger.downs.get(key, ())):
        if not values <= row.values:
            agreeing.add(worker)
    for worker, values in votes(ledger.ups.get(key, ())):
        if values != row.values:
            against.add(worker)
    agreeing -= against
    agreeing.discard(CENTRAL_CLIENT)
    return tuple(sorted(agreeing))
