"""A small driver that plays the server's part: apply, observe, apply the client's inserts."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from crowdfill.central_client import CentralClient
from crowdfill.model import (
    CandidateTable,
    Downvote,
    Event,
    Fill,
    Insert,
    Operation,
    Retract,
    Upvote,
    Value,
    values_from_mapping,
)
from tests.model.support import NEYMAR

NEYMAR_FW: dict[str, Value] = {**NEYMAR, "position": "FW"}


class Driver:
    """Applies worker operations and loops the central client's inserts back, as the server does."""

    def __init__(self, table: CandidateTable, *, close_when_satisfied: bool = True) -> None:
        self.table = table
        self._ids = itertools.count(1)
        self.client = CentralClient(table, self.new_id, close_when_satisfied=close_when_satisfied)
        self.inserted: list[Insert] = []

    def new_id(self) -> str:
        return f"r{next(self._ids)}"

    def start(self) -> list[Insert]:
        return self.apply_inserts(self.client.start())

    def apply(self, op: Operation) -> list[Insert]:
        """Apply a worker operation; return the inserts the client made in response (now applied)."""
        return self.apply_inserts(self.client.observe(self.table.apply(op)))

    def apply_inserts(self, inserts: list[Insert]) -> list[Insert]:
        for insert in inserts:
            events: list[Event] = self.table.apply(insert)
            self.inserted.append(insert)
            assert self.client.observe(events) == [], "an applied insert must not call for another"
        return inserts

    def seed(self, values: Mapping[str, Value]) -> str:
        """Put a row in the table without the client's involvement (a table built by hand)."""
        row_id = self.new_id()
        self.table.apply(Insert(row_id, values_from_mapping(values), worker="seed"))
        return row_id

    def seed_upvotes(self, row_id: str, *workers: str) -> None:
        """Votes already in the table before the client starts."""
        for worker in workers:
            self.table.apply(Upvote(worker, row_id, frozenset()))

    def fill(self, worker: str, row_id: str, column: str, value: Value) -> str:
        new_id = self.new_id()
        self.apply(Fill(worker, row_id, new_id, column, value, frozenset()))
        return new_id

    def upvote(self, worker: str, row_id: str) -> None:
        self.apply(Upvote(worker, row_id, frozenset()))

    def downvote(self, worker: str, row_id: str) -> None:
        self.apply(Downvote(worker, row_id, frozenset()))

    def retract(self, worker: str, row_id: str) -> None:
        self.apply(Retract(worker, row_id))
