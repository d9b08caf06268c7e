"""What applying an operation changed, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crowdfill.model.operations import Annotate
from crowdfill.model.row import Row
from crowdfill.model.values import Value, Values

GroupKey = tuple[Literal["key"], tuple[Value, ...]] | tuple[Literal["row"], str]


@dataclass(frozen=True)
class RowInserted:
    row: Row


@dataclass(frozen=True)
class RowReplaced:
    """``row`` was added by a fill of ``old_row_id``; ``removed`` is False when it was already gone."""

    old_row_id: str
    row: Row
    removed: bool


@dataclass(frozen=True)
class VoteRecorded:
    worker: str
    kind: Literal["up", "down"]
    values: Values
    row_id: str


@dataclass(frozen=True)
class VoteRetracted:
    """``worker``'s record (kind, values) is tombstoned: it no longer counts, whenever it arrives."""

    worker: str
    kind: Literal["up", "down"]
    values: Values
    row_id: str


@dataclass(frozen=True)
class GroupRescored:
    """Membership, counts or scores of a key group changed; statuses in it may have changed."""

    group: GroupKey


@dataclass(frozen=True)
class RowAnnotated:
    """The annotation a replica keeps for (values, kind, column) is now ``annotation``."""

    annotation: Annotate


Event = RowInserted | RowReplaced | VoteRecorded | GroupRescored | VoteRetracted | RowAnnotated
