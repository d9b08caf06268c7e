"""Vote records and the counts derived from them.

u(V) = distinct workers who upvoted exactly V; d(V) = distinct workers who downvoted some p ⊆ V.
Counts are kept only for value sets that some live row holds, and follow from the records alone,
so they do not depend on the order in which votes and rows arrived.

A retracted record leaves a tombstone (worker, kind, values): the record is removed, and a record
matching a tombstone is ignored whenever it arrives, so a retract wins over its vote in any order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from itertools import combinations

from crowdfill.model.members import Members, added, compact, discarded
from crowdfill.model.values import Item, Values, item_order


class Tally:
    def __init__(self) -> None:
        # Voter sets as ``members`` holders: most hold one or two workers, or (d) none at all.
        self._up: dict[Values, Members[str]] = {}
        self._down_records: dict[Values, Members[str]] = {}
        # Each downvoted value set filed under one of its items (its "anchor"), so finding the
        # records p ⊆ V only looks at records anchored at an item of V, not at every record.
        self._down_by_anchor: dict[Item, set[Values]] = {}
        # Per worker, the value sets they downvoted: a worker has few, so "is w counted in d(V)"
        # is answered without computing all of d(V).
        self._down_by_worker: dict[str, set[Values]] = {}
        self._down: dict[Values, Members[str]] = {}
        self._by_item: dict[Item, Members[Values]] = {}
        self._retracted: set[tuple[str, str, Values]] = set()

    # --- value sets held by live rows -------------------------------------------------------
    def track(self, values: Values) -> None:
        """Start counting for ``values`` (a live row now holds it)."""
        if values in self._down:
            return
        self._down[values] = compact(self._downvoters_of(values))
        by_item = self._by_item
        for item in values:
            by_item[item] = added(by_item.get(item, ()), values)

    def untrack(self, values: Values) -> None:
        """Stop counting for ``values`` (no live row holds it any more)."""
        if self._down.pop(values, None) is None:
            return
        for item in values:
            holders = self._by_item.get(item)
            if holders is not None:
                holders = discarded(holders, values)
                if holders:
                    self._by_item[item] = holders
                else:
                    del self._by_item[item]

    def tracked(self, values: Values) -> bool:
        return values in self._down

    def tracked_supersets(self, values: Values) -> Iterator[Values]:
        """Tracked value sets that contain ``values``."""
        if not values:
            yield from list(self._down)
            return
        postings = []
        for item in values:
            posting = self._by_item.get(item)
            if posting is None:
                return
            postings.append(posting)
        smallest = min(postings, key=len)
        for candidate in list(smallest):
            if values <= candidate:
                yield candidate

    # --- records ------------------------------------------------------------------------------
    def record_up(self, worker: str, values: Values) -> bool:
        """Record the upvote; False when this exact record already exists."""
        if (worker, "up", values) in self._retracted:
            return False
        voters = self._up.get(values, ())
        if worker in voters:
            return False
        self._up[values] = added(voters, worker)
        return True

    def record_down(self, worker: str, values: Values) -> list[Values] | None:
        """Record the downvote; return the tracked value sets whose d grew, None for a repeat record.

        A downvote on no values at all is ignored: the table refuses it, and counting it would put
        the worker against every row.
        """
        if not values or (worker, "down", values) in self._retracted:
            return None
        voters = self._down_records.get(values)
        if voters is None:
            voters = ()
            self._down_by_anchor.setdefault(_anchor(values), set()).add(values)
        if worker in voters:
            return None
        self._down_records[values] = added(voters, worker)
        self._down_by_worker.setdefault(worker, set()).add(values)
        grown = []
        for superset in self.tracked_supersets(values):
            counted = self._down[superset]
            if worker not in counted:
                self._down[superset] = added(counted, worker)
                grown.append(superset)
        return grown

    def retract(self, worker: str, kind: str, values: Values) -> list[Values] | None:
        """Tombstone the record; return the value sets whose u or d shrank, None for a repeat retract."""
        tombstone = (worker, kind, values)
        if tombstone in self._retracted:
            return None
        self._retracted.add(tombstone)
        if kind == "up":
            upvoters = self._up.get(values)
            if upvoters is None or worker not in upvoters:
                return []
            upvoters = discarded(upvoters, worker)
            if upvoters:
                self._up[values] = upvoters
            else:
                del self._up[values]
            return [values]
        voters = self._down_records.get(values)
        if voters is None or worker not in voters:
            return []
        voters = discarded(voters, worker)
        if voters:
            self._down_records[values] = voters
        else:
            del self._down_records[values]
            anchored = self._down_by_anchor[_anchor(values)]
            anchored.discard(values)
            if not anchored:
                del self._down_by_anchor[_anchor(values)]
        mine = self._down_by_worker[worker]
        mine.discard(values)
        if not mine:
            del self._down_by_worker[worker]
        shrunk = []
        for superset in self.tracked_supersets(values):
            counted = self._down[superset]
            # The worker may still count here through another downvote of theirs on a part of it.
            if worker in counted and not any(p <= superset for p in mine):
                self._down[superset] = discarded(counted, worker)
                shrunk.append(superset)
        return shrunk

    def retracted(self, worker: str, kind: str, values: Values) -> bool:
        return (worker, kind, values) in self._retracted

    def has_record(self, worker: str, kind: str, values: Values) -> bool:
        """Whether ``worker`` has a standing record of this sign on exactly ``values``."""
        held = self._up if kind == "up" else self._down_records
        return worker in held.get(values, ())

    def retractions(self) -> Iterator[tuple[str, str, Values]]:
        """Every tombstone as (worker, kind, values)."""
        yield from self._retracted

    # --- counts -------------------------------------------------------------------------------
    def up(self, values: Values) -> int:
        return len(self._up.get(values, ()))

    def down(self, values: Values) -> int:
        counted = self._down.get(values)
        return len(counted) if counted is not None else len(self._downvoters_of(values))

    def voters(self, values: Values) -> tuple[Collection[str], Collection[str]]:
        """Who is counted in u and in d of ``values``, as held here (not copies: read, never keep)."""
        counted = self._down.get(values)
        return self._up.get(values, ()), counted if counted is not None else self._downvoters_of(values)

    def upvoters(self, values: Values) -> frozenset[str]:
        return frozenset(self._up.get(values, ()))

    def downvoters(self, values: Values) -> frozenset[str]:
        counted = self._down.get(values)
        return frozenset(counted if counted is not None else self._downvoters_of(values))

    def counts_worker(self, worker: str, values: Values) -> bool:
        """Whether ``worker`` is already counted in u or d of ``values``."""
        if worker in self._up.get(values, ()):
            return True
        counted = self._down.get(values)
        if counted is not None:
            return worker in counted
        return any(downvoted <= values for downvoted in self._down_by_worker.get(worker, ()))

    def records(self) -> Iterator[tuple[str, str, Values]]:
        """Every vote record as (worker, kind, values)."""
        for values, workers in self._up.items():
            for worker in workers:
                yield worker, "up", values
        for values, workers in self._down_records.items():
            for worker in workers:
                yield worker, "down", values

    def _downvoters_of(self, values: Values) -> set[str]:
        found: set[str] = set()
        if not values:
            return found
        anchored = [self._down_by_anchor.get(item, ()) for item in values]
        candidates = sum(len(records) for records in anchored)
        size = len(values)
        # Enumerate whichever is smaller: the subsets of ``values`` or the records anchored in it.
        if size < 20 and (1 << size) < candidates:
            items = sorted(values, key=item_order)
            for length in range(1, size + 1):
                for subset in combinations(items, length):
                    found.update(self._down_records.get(frozenset(subset), ()))
        else:
            for records in anchored:
                for downvoted in records:
                    if downvoted <= values:
                        found.update(self._down_records[downvoted])
        return found


def _anchor(values: Values) -> Item:
    return min(values, key=item_order)
