"""The central client: keeps the Probable Rows Invariant by inserting rows, and detects termination.

DESIGN §3. Two incremental matchings are kept over the same template classes:

- the *probable* matching (template rows -> key groups with a probable row ⊇ the template row),
  which decides the inserts, preferring key-fixing template rows since only their own group can
  serve them;
- the *final* matching (template rows -> key groups whose final row ⊇ the template row, or for a
  group whose tied winners serve different template rows, some tied winner ⊇ it), which says
  whether the final table satisfies the template: the model breaks such ties toward the template
  (crowdfill.model.ties), so the final table satisfies it exactly when this matching is complete.

An operation reports the groups it rescored; only those groups' edges are recomputed, and the
matchings are repaired by augmenting paths from the template rows the change can affect.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from crowdfill.central_client.matching import IncrementalMatching
from crowdfill.central_client.template_index import TemplateIndex
from crowdfill.model import (
    CandidateTable,
    Event,
    GroupKey,
    GroupRescored,
    Insert,
    RowInserted,
    Values,
)
from crowdfill.model.scoring import Score
from crowdfill.model.status import status_of


class CentralClient:
    """The only inserter of rows. Consumes the table's events, returns the inserts to apply.

    Protocol: call ``start()`` once (at launch or after recovery), then ``observe(events)`` after
    every applied operation, including the inserts this client returned. Inserts returned but not
    yet observed are remembered, so a template row is never inserted for twice while its insert
    is in flight; ``start()`` forgets them (use it after a restart).
    """

    def __init__(
        self,
        table: CandidateTable,
        new_row_id: Callable[[], str],
        *,
        close_when_satisfied: bool = True,
    ) -> None:
        self.table = table
        self.close_when_satisfied = close_when_satisfied
        self.inserted_count = 0
        self._new_row_id = new_row_id
        self._index = TemplateIndex(table.schema, table.template)
        self._built = False
        self._reset()

    # ------------------------------------------------------------------------------- protocol
    def start(self) -> list[Insert]:
        """Rebuild everything from the table and return the inserts needed now."""
        self._reset()
        for group in self.table.groups():
            self._probable.set_edges(group, self._probable_classes(group))
            self._final.set_edges(group, self._final_classes(group))
        self._final_dirty = True
        self._repair_final()
        self._built = True
        return self._finish(self._settle(range(len(self._index))))

    def observe(self, events: Iterable[Event]) -> list[Insert]:
        """Update after applied operations' events; return the inserts the caller must apply next."""
        if not self._built:
            return self.start()
        changed: set[GroupKey] = set()
        for event in events:
            if isinstance(event, GroupRescored):
                changed.add(event.group)
            elif isinstance(event, RowInserted):
                self._forget_pending(event.row.row_id, changed)
        for row_id in [r for r in self._pending if self.table.known(r)]:
            # The caller applied an insert without passing us its events; its group changed all the same.
            self._forget_pending(row_id, changed)
        return self._finish(self._settle(self._refresh(changed)))

    @contextmanager
    def drawing_row_ids(self, source: Callable[[], str]) -> Iterator[None]:
        """Draw the ids of planned inserts from ``source`` inside the block (a replay hands in the
        logged ones, ``crowdfill.central_client.sequencer.LoggedIds``), then from the usual source."""
        usual, self._new_row_id = self._new_row_id, source
        try:
            yield
        finally:
            self._new_row_id = usual

    # ------------------------------------------------------------------------------- reading
    @property
    def satisfied(self) -> bool:
        """Whether the final table satisfies the template (every template row has its own final row)."""
        return self._final.free_count == 0

    def satisfaction(self) -> dict[int, str] | None:
        """Which final row serves which template row, or None while the template is not satisfied."""
        if not self.satisfied:
            return None
        served: dict[int, str] = {}
        wanted = self.table.template.rows
        for position, group in self._final.assignment().items():
            row = self.table.final_row(group)
            if row is None or not wanted[position] <= row.values:
                # This matching took the tied winner the table did not choose; the table's choice
                # serves the template too (crowdfill.model.ties), through another matching.
                return self._rematch()
            served[position] = row.row_id
        return served

    def _rematch(self) -> dict[int, str] | None:
        final = [(row.row_id, row.values) for row in self.table.final_table()]
        return self.table.template.matching(final)

    def matching(self) -> dict[int, GroupKey]:
        """Template position -> the key group whose probable row serves it."""
        return self._probable.assignment()

    def waiting_for_votes(self) -> list[int]:
        """Template positions no insert can help: their key group holds a higher-scoring row."""
        return sorted(
            p for c in self._waiting for p in self._index.classes[c].positions if not self._probable.served(p)
        )

    def pending_inserts(self) -> list[str]:
        """Ids of rows this client asked for and has not yet seen inserted."""
        return sorted(self._pending)

    # ------------------------------------------------------------------------------- internals
    def _reset(self) -> None:
        positions = [c.positions for c in self._index]
        key_fixing = [c.index for c in self._index if c.key_group is not None]
        self._probable = IncrementalMatching(positions, transit_blocked=key_fixing)
        self._final = IncrementalMatching(positions)
        self._virtual: dict[GroupKey, dict[str, Values]] = {}
        self._pending: dict[str, GroupKey] = {}
        self._waiting: set[int] = set()
        self._final_dirty = False

    def _finish(self, inserts: list[Insert]) -> list[Insert]:
        if self.satisfied and self.close_when_satisfied:
            if not self.table.closed:
                self.table.close()
            # A disowned row can leave a template row free in the probable matching while the final
            # table already satisfies the template: the insert would meet a closed table, and no
            # longer matters.
            return []
        return inserts

    def _forget_pending(self, row_id: str, changed: set[GroupKey]) -> None:
        group = self._pending.pop(row_id, None)
        if group is None:
            return
        rows = self._virtual[group]
        del rows[row_id]
        if not rows:
            del self._virtual[group]
        changed.add(group)

    # --- edges ----------------------------------------------------------------------------------
    def _probable_classes(self, group: GroupKey) -> set[int]:
        classes: set[int] = set()
        for values in self._probable_values(group):
            classes |= self._index.classes_within(values)
        return classes

    def _final_classes(self, group: GroupKey) -> set[int]:
        # Every value set the group's final row may take: the model breaks an ambiguous tie toward
        # the template (crowdfill.model.ties), so a template row any of them serves can be served.
        classes: set[int] = set()
        for values in self.table.final_choices(group):
            classes |= self._index.classes_within(values)
        return classes

    def _scored_rows(self, group: GroupKey) -> list[tuple[Score, Values, bool]]:
        """Scores of the group's live rows and of the rows this client has asked to insert into it,
        each with whether it may serve a template row (a disowned row may not).

        The live rows come once per distinct value set (``CandidateTable.scored_values``): rows
        with equal values have equal scores and are disowned alike, and what is read from this
        list (the best score, the set of probable values, the score of given values) does not
        depend on repeats or order."""
        scored = [
            (score, values, not disowned) for score, values, disowned in self.table.scored_values(group)
        ]
        for values in self._virtual.get(group, {}).values():
            scored.append((self._arrival_score(values, scored), values, True))
        return scored

    def _probable_values(self, group: GroupKey) -> set[Values]:
        scored = self._scored_rows(group)
        if not scored:
            return set()
        best = max(score for score, _, _ in scored)
        is_complete = self.table.schema.is_complete
        # A disowned row still counts for the group's best score (the model's status is unchanged),
        # but serves no template row: a fresh row with the template row's values is inserted beside it.
        return {
            values
            for score, values, serves in scored
            if serves and status_of(score, best, is_complete(values)).probable
        }

    def _arrival_score(self, values: Values, scored: list[tuple[Score, Values, bool]]) -> Score:
        """The score a new row with a template row's values would have on arrival.

        Counts depend only on the values. A live row with the same values shares them. Otherwise no
        vote counts for these values: upvotes need a live complete row (complete rows are never
        replaced), and downvotes on a subset of a template row are refused (TemplateProtected).
        """
        for score, existing, _ in scored:
            if existing == values:
                return score
        return self.table.scoring.score(0, 0)

    def _arrives_probable(self, values: Values, group: GroupKey | None) -> bool:
        scored = self._scored_rows(group) if group is not None else []
        score = self._arrival_score(values, scored)
        best = max([score, *(s for s, _, _ in scored)])
        return status_of(score, best, self.table.schema.is_complete(values)).probable

    def _refresh(self, groups: Iterable[GroupKey]) -> set[int]:
        """Recompute the edges of changed groups; return the classes the probable side must revisit."""
        revisit: set[int] = set()
        final = self._final
        for group in groups:
            freed, gained = self._probable.set_edges(group, self._probable_classes(group))
            revisit |= freed
            revisit.update(c for c in gained if self._probable.free_in(c))
            fixer = self._index.class_fixing(group)
            if fixer is not None and self._probable.free_in(fixer):
                revisit.add(fixer)
            freed, gained = final.set_edges(group, self._final_classes(group))
            self._final_dirty = self._final_dirty or bool(freed or gained)
        self._repair_final()
        return revisit

    def _repair_final(self) -> None:
        """Make the final matching maximum again, but only when that can change ``satisfied``.

        While some template class has fewer final rows ⊇ it than rows of its own, the template is
        certainly not satisfied and the repair waits. Otherwise one pass of searches from the rows
        still free makes the matching maximum (a row with no augmenting path keeps having none as
        others augment); classes a failed search visited are skipped until something augments.
        Near the end of a collection few rows are free, so the pass is short.
        """
        final = self._final
        if final.free_count == 0:
            self._final_dirty = False
            return
        if not self._final_dirty or final.short_classes:
            return
        dead: set[int] = set()
        for class_index in final.free_classes():
            while class_index not in dead and final.augment(class_index, dead):
                dead.clear()
        self._final_dirty = False

    # --- the invariant --------------------------------------------------------------------------
    def _settle(self, classes: Iterable[int]) -> list[Insert]:
        """Match every free template row of ``classes`` or insert for it; record who must wait."""
        index = self._index
        queue = deque(sorted(set(classes), key=lambda c: (not index.key_fixing(c), c)))
        inserts: list[Insert] = []
        while queue:
            class_index = queue.popleft()
            self._waiting.discard(class_index)
            template_class = index.classes[class_index]
            group = template_class.key_group
            while self._probable.free_in(class_index):
                if group is not None:
                    if self._probable.has_edge(class_index, group):
                        if self._probable.holder(group) is not None:
                            # Only this group can serve a key-fixing row; whoever holds it moves on.
                            queue.append(self._probable.release(group))
                        self._probable.assign(class_index, group)
                        continue
                elif self._probable.augment(class_index):
                    continue
                if not self._arrives_probable(template_class.values, group):
                    self._waiting.add(class_index)
                    break
                queue.extend(self._plan_insert(class_index, inserts))
                if group is not None and not self._probable.has_edge(class_index, group):  # pragma: no cover
                    # Cannot happen (the insert was checked to arrive probable); never loop on it.
                    self._waiting.add(class_index)
                    break
        return inserts

    def _plan_insert(self, class_index: int, inserts: list[Insert]) -> set[int]:
        template_class = self._index.classes[class_index]
        row_id = self._new_row_id()
        group: GroupKey = template_class.key_group or ("row", row_id)
        self._virtual.setdefault(group, {})[row_id] = template_class.values
        self._pending[row_id] = group
        inserts.append(Insert(row_id, template_class.values))
        self.inserted_count += 1
        freed, gained = self._probable.set_edges(group, self._probable_classes(group))
        if template_class.key_group is None:
            self._probable.assign(class_index, group)
        return freed | {c for c in gained if c != class_index and self._probable.free_in(c)}
