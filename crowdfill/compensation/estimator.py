"""Live estimates while a table fills: what a fill in each column and an agreeing vote are worth
now, and each worker's running total as if the current probable rows became final.

The estimator keeps, per key group, a *probable representative*: the group's final row, or else
its first complete probable (blue) row. These rows play the final table. Each one gets a rank when
it becomes probable (how many probable rows have an earlier key at that moment) and keeps it while
it stays probable, so one operation changes only the groups it touches: an update costs the
touched group's rows and votes plus O(log n), never a pass over the table. Because ranks are not
shifted afterwards, the running totals are an approximation of the settlement's formula. They
anticipate a completed table, which pays its whole budget: the normaliser is what the workers
earned in the probable rows (so their unearned parts are redistributed, as the settlement of a
completed table does) plus the full weight of the rows the template still needs (so early totals
are not inflated). Once the table is closed, every estimate is the exact settlement of the
outcome the owner reports (``conclude``).

A restart replays the log after its state capture through the owner, one operation at a time
(``crowdfill.server.recovery``). While it does, the estimator can be told to *defer* its work
(``defer``): for each operation it notes only what it would read from the table right then
(the touched key's representative row, that row's downvoters, the excluded workers) and does the
rest (the ledger, the row's credit and shares, the running sums) later, in the same order, from
those notes (``catch_up``). The state it ends in is the one observing each operation at once
gives; the table can serve meanwhile. Any read of the estimates catches up first.

A restored estimator can also *arrive* later (``arriving``): it starts as a stand-in holding only
the table, which can defer operations as above (that reads only the table), and takes the
restored estimator's state from a loader the first time anything else is asked of it
(``crowdfill.server.capture`` loads the table first and the estimator, about half of a capture,
once the table serves). The deferred notes are then worked as usual.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Set
from typing import NamedTuple, TypedDict, TypeVar, cast

from crowdfill.compensation.credit import Downvoted, credit
from crowdfill.compensation.errors import LogMismatch
from crowdfill.compensation.fenwick import Fenwick
from crowdfill.compensation.ledger import Key, Ledger
from crowdfill.compensation.settings import CompensationSettings
from crowdfill.compensation.settlement import Settlement, settle_ledger
from crowdfill.model.members import Members, added, discarded
from crowdfill.model.operations import Downvote, Fill, Insert, Operation, Retract, Upvote
from crowdfill.model.row import Row
from crowdfill.model.table import CandidateTable, GroupKey
from crowdfill.model.values import Item, Values, sort_key

T = TypeVar("T")

# Estimates are floored to cents; this absorbs floating-point noise such as 12.999999999997.
_NOISE = 1e-7


class _Entry(NamedTuple):
    # A tuple: one per probable key group, and no instance __dict__ once restored from a capture.
    row_id: str
    values: Values
    rank: int
    # The workers with a part of the row's share, sorted, and each one's fraction of it as an
    # index into the estimator's table of distinct fractions (``Estimator._fractions``): a row has
    # about eight workers but a whole table only about a hundred distinct fractions, so this holds
    # two flat tuples of shared objects instead of a (worker, float) pair and a float per worker.
    workers: tuple[str, ...]
    fractions: tuple[int, ...]
    voters: int


class _Deferred(NamedTuple):
    # An operation observed while deferring, with what the table said about it right then.
    op: Operation
    key: Key | None  # the one key group it touches (None: none)
    row: Row | None  # that key's representative row then
    downvoters: frozenset[str]  # that row's downvoters then
    excluded: frozenset[str]  # the workers excluded from pay then


class _Said:
    """The downvoters the table gave for one row at one moment (``credit`` reads them here)."""

    __slots__ = ("_downvoters",)

    def __init__(self, downvoters: frozenset[str]) -> None:
        self._downvoters = downvoters

    def downvoters(self, row_id: str) -> Set[str]:
        return self._downvoters


class Estimate(TypedDict):
    fill: dict[str, int]
    vote: int
    total: int


class _Scaled:
    """A sum of terms amount * g**rank, held as value * g**base so it neither overflows nor drifts."""

    __slots__ = ("base", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.base = 0

    def add(self, growth: float, rank: int, amount: float) -> None:
        if rank > self.base:
            self.value *= growth ** (self.base - rank)
            self.base = rank
        self.value += amount * growth ** (rank - self.base)

    def remove(self, growth: float, rank: int, amount: float) -> None:
        self.value = max(0.0, self.value - amount * growth ** (rank - self.base))

    def at(self, growth: float, base: int) -> float:
        """The sum divided by g**base (base >= self.base)."""
        return self.value * growth ** (self.base - base)


def _add(scaled: _Scaled, growth: float, rank: int, amount: float) -> None:
    # ``scaled.add(growth, rank, amount)`` without the method call (the same operations).
    base = scaled.base
    if rank > base:
        scaled.value *= growth ** (base - rank)
        scaled.base = base = rank
    scaled.value += amount * growth ** (rank - base)


class Estimator:
    """Observe every applied operation; ask ``estimate(worker)`` at any time.

    ``history`` is the operations the table had already applied when the estimator was made (for
    example after a restart), so that the work in them is attributed.
    """

    # Deferred operations, oldest first (None: none); class-level defaults, so a restored
    # estimator captured before these existed reads as one with nothing deferred.
    _backlog: deque[_Deferred] | None = None
    _deferring = False
    # What loads the state of an estimator that is still arriving (see ``arriving``); None once
    # it is here. A class-level default, like the two above.
    _loader: Callable[[], Estimator] | None = None

    def __init__(
        self, table: CandidateTable, settings: CompensationSettings, history: Iterable[Operation] = ()
    ) -> None:
        self._table = table
        self._settings = settings
        self._schema = table.schema
        self._ledger = Ledger.of(table.schema, history, strict=False)
        self._parts = {column: float(part) for column, part in settings.column_parts(table.schema).items()}
        self._vote = float(settings.vote_fraction)
        self._growth = float(settings.growth_fraction)
        # The fooled-the-model bonus pool is reserved: the live estimates promise only the rest.
        bonus_pool = math.floor(settings.budget_cents * settings.fooled_bonus_fraction)
        self._budget = float(settings.budget_cents - bonus_pool)
        self._template_rows = len(table.template)
        self._entries: dict[Key, _Entry] = {}
        self._ranks = Fenwick()
        self._norm = _Scaled()
        self._earned = _Scaled()  # all the workers' parts of the probable rows, weighted g**rank
        self._sums: dict[str, _Scaled] = {}
        self._voter_slots = 0
        self._by_item: dict[Item, Members[Key]] = {}  # small holders (crowdfill.model.members)
        # The distinct fractions the entries' shares take, and each one's index (see _Entry).
        self._fractions: list[float] = []
        self._fraction_index: dict[float, int] = {}
        self._settled: tuple[int, bool, Settlement] | None = None
        self._completed = False
        self.reweighed()

    @classmethod
    def arriving(cls, table: CandidateTable, loader: Callable[[], Estimator]) -> Estimator:
        """The estimator ``loader()`` returns, an estimator of ``table`` (restored with it), before
        its state is loaded: it can ``defer`` operations (which reads only the table) and loads
        that state the first time anything else is asked of it (``arrive``)."""
        stand_in = cls.__new__(cls)
        stand_in._table = table
        stand_in._schema = table.schema
        stand_in._loader = loader
        return stand_in

    @property
    def arrived(self) -> bool:
        """Whether its state is loaded (always, but for an estimator made by ``arriving``)."""
        return self._loader is None

    def arrive(self) -> None:
        """Load the state of an estimator made by ``arriving`` (nothing for any other)."""
        loader = self._loader
        if loader is None:
            return
        loaded = loader()
        if loaded._table is not self._table:
            raise LogMismatch("the estimator that arrived is not of this estimator's table")
        # What was noted while it was arriving stays; everything else is the loaded estimator's.
        noted = {name: value for name, value in vars(self).items() if name in ("_backlog", "_deferring")}
        state = vars(self)
        state.clear()
        state.update(vars(loaded))
        state.update(noted)

    # ------------------------------------------------------------------ updating
    def observe(self, op: Operation) -> None:
        """Take an operation the table has just applied (in sequence order)."""
        if self._deferring and self._defer(op):
            return
        self.catch_up()
        self._ledger.record(op)
        for key in self._touched(op):
            self._refresh(key)
        # An operation anywhere can move the final row of a group whose tie the table breaks
        # toward the template (crowdfill.model.ties); there are few such groups, usually none.
        for _, tied in self._table.ambiguous_groups():
            if not isinstance(tied, str):  # a ("row", id) group holds one row: it never ties
                self._refresh(tied)

    def reweighed(self) -> None:
        """The table integrated a reweigh: it may have moved final rows in any group, or excluded
        a worker from pay, so every key group is refreshed (reweighs are rare)."""
        self.catch_up()
        keys = sorted(
            (g[1] for g in self._table.groups() if g[0] == "key"),
            key=lambda k: (self._ledger.ordinal(k), repr(k)),
        )
        for key in keys:
            self._refresh(key)

    def defer(self) -> None:
        """From now until ``stop_deferring``, ``observe`` notes what it reads from the table and
        leaves the rest for ``catch_up`` (see the module's docstring). An operation whose touched
        keys depend on the estimator's own state (a downvote or retract of values without a key),
        or made while a tie elsewhere can move a final row, is observed at once, after what was
        deferred before it."""
        if self._backlog is None:
            self._backlog = deque()
        self._deferring = True

    def stop_deferring(self) -> None:
        """``observe`` works at once again (what was deferred still waits for ``catch_up``)."""
        self._deferring = False
        if not self._backlog:
            self._backlog = None

    def catch_up(self, limit: int | None = None) -> bool:
        """Do the work of up to ``limit`` deferred operations (all of them by default), oldest
        first; whether some are still deferred. An estimator still arriving arrives first."""
        if self._loader is not None:
            self.arrive()
        backlog = self._backlog
        if not backlog:
            return False
        for _ in range(len(backlog) if limit is None else min(limit, len(backlog))):
            # Taken off only once worked: one whose work is refused (``LogMismatch``) stays first,
            # so the next catch-up (a read, after a failed one in the background) refuses it again
            # instead of going on without it.
            self._apply(backlog[0])
            backlog.popleft()
        if backlog:
            return True
        if not self._deferring:
            self._backlog = None
        return False

    @property
    def deferred(self) -> int:
        """How many observed operations still wait for ``catch_up``."""
        return len(self._backlog) if self._backlog else 0

    def _defer(self, op: Operation) -> bool:
        """Note ``op`` with what ``observe`` would read from the table now; False if it cannot be."""
        backlog = self._backlog
        table = self._table
        if backlog is None or table.ambiguous_groups():
            return False
        key_of = self._schema.key_of
        if isinstance(op, Fill):
            if not op.values:
                return False  # the new row's values are only known from the ledger
            key = key_of(op.values)
        elif isinstance(op, Insert | Upvote):
            key = key_of(op.values)
        elif isinstance(op, Downvote | Retract):
            key = key_of(op.values)
            if key is None and not (isinstance(op, Retract) and op.kind == "up"):
                return False  # touches what the estimator's own entries hold
        else:
            key = None
        row = None if key is None else self._representative(key)
        if row is None:
            backlog.append(_Deferred(op, key, None, frozenset(), frozenset()))
        else:
            downvoters = table.downvoters(row.row_id)
            backlog.append(_Deferred(op, key, row, downvoters, table.excluded_workers()))
        return True

    def _apply(self, deferred: _Deferred) -> None:
        """``observe(deferred.op)`` as it would have gone when it was deferred. A refused one
        (``LogMismatch``) changes nothing, so working it again gives what working it once gives."""
        op, key = deferred.op, deferred.key
        # Checked before the ledger takes it: what a deferrable operation touches does not depend
        # on its own record (a deferred fill carries its values; one remaking a known row id reads
        # that row's values either way).
        touched = self._touched(op)
        if touched != ([] if key is None else [key]):
            raise LogMismatch(
                f"a deferred {type(op).__name__} touches {touched!r}, not the key {key!r} it was noted with"
            )
        self._ledger.record(op)
        if key is not None:
            self._refresh_to(key, deferred.row, _Said(deferred.downvoters), deferred.excluded)

    def __getstate__(self) -> dict[str, object]:
        # A capture holds the estimator caught up (nothing deferred, not deferring).
        self.catch_up()
        return self.__dict__

    def _touched(self, op: Operation) -> list[Key]:
        if isinstance(op, Fill):
            made = self._ledger.values_of(op.new_row_id)
            values = op.values if made is None else made
        elif isinstance(op, Insert | Upvote):
            values = op.values
        elif isinstance(op, Downvote):
            return self._downvote_touches(op.values)
        elif isinstance(op, Retract):
            return self._retract_touches(op)
        else:  # pragma: no cover - the Operation union is closed
            return []
        key = self._schema.key_of(values)
        return [] if key is None else [key]

    def _downvote_touches(self, values: Values) -> list[Key]:
        key = self._schema.key_of(values)
        if key is not None:  # every row containing these values has this key
            return [key]
        # Scores never rise with a downvote (model.scoring), so a downvote can only unseat the
        # representatives that contain its values: those are the groups to refresh.
        represented = _smallest(self._by_item, values)
        return sorted((k for k in represented if values <= self._entries[k].values), key=self._ledger.ordinal)

    def _retract_touches(self, op: Retract) -> list[Key]:
        key = self._schema.key_of(op.values)
        if key is not None:  # every row containing these values has this key
            return [key]
        if op.kind == "up":  # pragma: no cover - upvoted rows are complete, so they have a key
            return []
        # A retracted downvote can raise the score of any row containing its values, so every key
        # group holding such a row may get a new representative.
        groups = self._table.groups_containing(op.values)
        return sorted((g[1] for g in groups if g[0] == "key"), key=self._ledger.ordinal)

    def _refresh(self, key: Key) -> None:
        self._refresh_to(key, self._representative(key), self._table, None)

    def _refresh_to(
        self, key: Key, row: Row | None, table: Downvoted, excluded: frozenset[str] | None
    ) -> None:
        """Make ``row`` the key's representative (None: it has none); its downvoters are read
        from ``table`` and the excluded workers are ``excluded`` (None: the table's now)."""
        old = self._entries.get(key)
        if row is None:
            if old is not None:
                self._unregister(key, old)
                self._leave(key, old)
            return
        workers, fractions, voters = self._shares(row, table, excluded)
        if (
            old is not None
            and old.row_id == row.row_id
            and old.workers == workers
            and old.fractions == fractions
        ):
            return
        if old is None:
            entry = _Entry(row.row_id, row.values, self._enter(key), workers, fractions, voters)
            self._entries[key] = entry
            self._register(key, entry)
            return
        entry = _Entry(row.row_id, row.values, old.rank, workers, fractions, voters)
        self._entries[key] = entry
        self._replace(key, old, entry)

    def _shares(
        self, row: Row, table: Downvoted, excluded: frozenset[str] | None
    ) -> tuple[tuple[str, ...], tuple[int, ...], int]:
        """The workers with a part of ``row``'s share (sorted), each one's fraction index, and how
        many agreeing voters it has. A much-voted row of a big table has about 55 workers and a
        refresh per vote on it (docs/scale.md, "The tail's estimator"), so this is kept tight: the
        arithmetic is the reference one (a filler's parts in schema order, then the vote share)."""
        row_credit = credit(self._ledger, table, row)
        # Excluded workers earn nothing (as in the settlement): their parts are left out.
        if excluded is None:
            excluded = self._table.excluded_workers()
        parts = self._parts
        filled: dict[str, float] = {}
        for column, worker in row_credit.fillers:
            if worker is not None and worker not in excluded:
                filled[worker] = filled.get(worker, 0.0) + parts[column]
        voters = row_credit.voters  # sorted
        count = len(voters)
        if excluded:
            voters = tuple(worker for worker in voters if worker not in excluded)
        index = self._fraction_index
        if not filled:
            if not voters:
                return (), (), count
            per_vote = self._vote / count
            slot = index.get(per_vote)
            if slot is None:
                slot = self._fraction(per_vote)
            return voters, (slot,) * len(voters), count
        fraction_of = dict.fromkeys(voters, self._vote / count) if voters else {}
        for worker, part in filled.items():
            fraction_of[worker] = part + fraction_of[worker] if worker in fraction_of else part
        workers = tuple(sorted(fraction_of))
        found = tuple([index.get(fraction_of[worker]) for worker in workers])
        if None in found:  # new fractions take their indices in worker order
            return workers, tuple([self._fraction(fraction_of[worker]) for worker in workers]), count
        return workers, cast("tuple[int, ...]", found), count

    def _representative(self, key: Key) -> Row | None:
        group: GroupKey = ("key", key)
        final = self._table.final_row(group)
        if final is not None:
            return final
        probable = [
            row
            for row in self._table.group_rows(group)
            if self._schema.is_complete(row.values) and self._table.status(row.row_id).probable
        ]
        return min(probable, key=lambda row: (sort_key(row.values), row.row_id)) if probable else None

    def _enter(self, key: Key) -> int:
        ordinal = self._ledger.ordinal(key)
        rank = self._ranks.below(ordinal)
        self._ranks.add(ordinal, 1)
        self._norm.add(self._growth, rank, 1.0)
        return rank

    def _leave(self, key: Key, entry: _Entry) -> None:
        del self._entries[key]
        self._ranks.add(self._ledger.ordinal(key), -1)
        self._norm.remove(self._growth, entry.rank, 1.0)

    def _fraction(self, fraction: float) -> int:
        """The index of ``fraction`` in the table of distinct fractions (added if new)."""
        index = self._fraction_index.get(fraction)
        if index is None:
            index = self._fraction_index[fraction] = len(self._fractions)
            self._fractions.append(fraction)
        return index

    # The per-worker sums below do what ``_Scaled.add`` and ``_Scaled.remove`` do, inline (a much-
    # voted row of a big table has about 55 workers): the same operations in the same order on
    # each worker's sum, so the floats are those of the method calls.
    def _register(self, key: Key, entry: _Entry) -> None:
        fractions, growth, rank, sums = self._fractions, self._growth, entry.rank, self._sums
        shares = [fractions[index] for index in entry.fractions]
        for worker, share in zip(entry.workers, shares, strict=True):
            scaled = sums.get(worker)
            if scaled is None:
                scaled = sums[worker] = _Scaled()
            _add(scaled, growth, rank, share)
        self._earned.add(growth, rank, sum(shares))
        self._voter_slots += entry.voters
        by_item = self._by_item
        for item in entry.values:
            by_item[item] = added(by_item.get(item, ()), key)

    def _unregister(self, key: Key, entry: _Entry) -> None:
        fractions, growth, rank, sums = self._fractions, self._growth, entry.rank, self._sums
        shares = [fractions[index] for index in entry.fractions]
        for worker, share in zip(entry.workers, shares, strict=True):
            scaled = sums[worker]
            value = scaled.value - share * growth ** (rank - scaled.base)
            scaled.value = value if value > 0.0 else 0.0
        self._earned.remove(growth, rank, sum(shares))
        self._voter_slots -= entry.voters
        self._unindex(key, entry.values)

    def _replace(self, key: Key, old: _Entry, new: _Entry) -> None:
        """``_unregister(key, old)`` then ``_register(key, new)`` (the same rank): the same sums,
        without taking the row's items out of the index and back when its values are the same."""
        fractions, growth, rank, sums = self._fractions, self._growth, old.rank, self._sums
        removed = [fractions[index] for index in old.fractions]
        for worker, share in zip(old.workers, removed, strict=True):
            held = sums[worker]
            value = held.value - share * growth ** (rank - held.base)
            held.value = value if value > 0.0 else 0.0
        self._earned.remove(growth, rank, sum(removed))
        shares = [fractions[index] for index in new.fractions]
        for worker, share in zip(new.workers, shares, strict=True):
            scaled = sums.get(worker)
            if scaled is None:
                scaled = sums[worker] = _Scaled()
            base = scaled.base
            if rank > base:
                scaled.value *= growth ** (base - rank)
                scaled.base = base = rank
            scaled.value += share * growth ** (rank - base)
        self._earned.add(growth, rank, sum(shares))
        self._voter_slots += new.voters - old.voters
        if old.values is not new.values and old.values != new.values:
            # Which keys an item's holder lists is read, never their order (``_smallest``).
            self._unindex(key, old.values)
            by_item = self._by_item
            for item in new.values:
                by_item[item] = added(by_item.get(item, ()), key)

    def _unindex(self, key: Key, values: Values) -> None:
        by_item = self._by_item
        for item in values:
            holders = discarded(by_item[item], key)
            if holders:
                by_item[item] = holders
            else:
                del by_item[item]

    # ------------------------------------------------------------------ reading
    def estimate(self, worker: str) -> Estimate:
        """``{"fill": {column: cents}, "vote": cents, "total": cents}`` for ``worker``.

        ``fill`` and ``vote`` are what one more value in that column, or one more agreeing vote, would
        earn in the next row to become final; ``total`` is the worker's running estimate. Once the
        table is closed no action is possible (``fill`` and ``vote`` are 0) and ``total`` is the
        worker's payment in the settlement.
        """
        return self.estimates((worker,))[worker]

    def estimates(self, workers: Iterable[str]) -> dict[str, Estimate]:
        """``estimate`` of each of ``workers``, the parts every worker shares computed once: the
        server pushes a table's estimates to all its sessions at once (crowdfill.server.sockets)."""
        self.catch_up()
        if self._table.closed:
            payments = self.settlement().payments
            return {
                worker: {"fill": dict.fromkeys(self._parts, 0), "vote": 0, "total": payments.get(worker, 0)}
                for worker in workers
            }
        growth = self._growth
        count = len(self._entries)
        needed = max(count, self._template_rows)
        needed_next = max(count + 1, self._template_rows)
        base = max(self._norm.base, self._earned.base, needed_next)
        # Only the earned parts of the probable rows count, as a completed table redistributes the
        # rest; a row the template still needs counts whole (it is assumed to be all workers' work).
        earned = self._earned.at(growth, base)
        weight = earned + self._phantom(count, needed, base)
        weight_next = earned + self._phantom(count, needed_next, base)
        next_row = growth ** (count - base)
        row_next = self._budget * next_row / weight_next
        voters = max(1.0, self._voter_slots / count) if count else 1.0
        fill = {column: _cents(row_next * part) for column, part in self._parts.items()}
        vote = _cents(row_next * self._vote / voters)
        sums, budget = self._sums, self._budget
        result: dict[str, Estimate] = {}
        for worker in workers:
            own = sums.get(worker)
            total = budget * own.at(growth, base) / weight if own is not None and weight > 0 else 0.0
            # A fill dict of its own per worker: callers keep and compare what they sent.
            result[worker] = {"fill": dict(fill), "vote": vote, "total": _cents(total)}
        return result

    def _phantom(self, start: int, stop: int, base: int) -> float:
        """sum(g**(j - base) for j in range(start, stop)): rows the template still needs."""
        if stop <= start:
            return 0.0
        growth = self._growth
        if growth == 1.0:
            return float(stop - start)
        return (growth ** (stop - base) - growth ** (start - base)) / (growth - 1.0)

    def fingerprint(self) -> tuple[object, ...]:
        """Everything the estimates are computed from, in a comparable form: each probable key's
        row, rank, workers and shares, each worker's running sum and the normalisers, exactly (the
        floats as they are). Two estimators that observed the same operations in the same order
        have the same fingerprint; a restored one must have the fingerprint of the one it restores."""
        self.catch_up()
        fractions = self._fractions
        entries = sorted(
            (
                self._ledger.ordinal(key),
                entry.row_id,
                entry.rank,
                entry.workers,
                tuple(fractions[index] for index in entry.fractions),
                entry.voters,
            )
            for key, entry in self._entries.items()
        )
        sums = sorted((worker, scaled.value, scaled.base) for worker, scaled in self._sums.items())
        totals = (self._norm.value, self._norm.base, self._earned.value, self._earned.base)
        return (entries, sums, totals, self._voter_slots, self._ledger.operations)

    def probable_rows(self) -> dict[Key, str]:
        """Key -> the row that plays the final row in the estimates."""
        self.catch_up()
        return {key: entry.row_id for key, entry in self._entries.items()}

    def conclude(self, *, completed: bool) -> None:
        """How collection ended: True if the table completed, False if the requester closed it early.

        Once the table is closed, ``estimate`` gives the payments of that outcome's settlement
        (until told, a closed table counts as closed early: nothing is promised that may not come).
        """
        self.arrive()
        self._completed = completed

    def final_settlement(self, *, completed: bool) -> Settlement:
        """The settlement of the closed table, from the ledger kept up to date operation by operation.

        Equal to ``settle(table, log, ...)`` for the log the estimator observed (with its history),
        without reading or decoding that log again: closing a large table costs the final table,
        not its history. Raises ``LogMismatch`` when the ledger does not explain the table, as
        ``settle`` does.
        """
        self.catch_up()
        self.conclude(completed=completed)
        ledger = self._ledger
        if ledger.live != len(self._table):
            raise LogMismatch(f"the log leaves {ledger.live} live rows but the table has {len(self._table)}")
        settled = self.settlement()
        for row in settled.rows:
            if not ledger.knows(row.row_id):
                raise LogMismatch(f"final row {row.row_id!r} is not made by any operation of the log")
        return settled

    def settlement(self) -> Settlement:
        """The exact settlement of the current final table, for the outcome given to ``conclude``
        (closed early if none yet; linear in the table; cached)."""
        self.catch_up()
        stamp = self._ledger.operations
        completed = self._completed
        if self._settled is None or self._settled[:2] != (stamp, completed):
            final = self._table.final_table()
            settled = settle_ledger(self._ledger, self._table, final, self._settings, completed=completed)
            self._settled = (stamp, completed, settled)
        return self._settled[2]


def _smallest(index: Mapping[Item, Collection[T]], values: Values) -> Collection[T]:
    """The shortest posting list among the items of ``values`` (empty when an item has none)."""
    postings = [index.get(item) for item in values]
    present = [p for p in postings if p is not None]
    if not postings or len(present) < len(postings):
        return ()
    return min(present, key=len)


def _cents(amount: float) -> int:
    return max(0, math.floor(amount + _NOISE))
