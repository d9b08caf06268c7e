"""Small member sets held compactly: a tuple while few, a ``set`` once many.

A big table keeps hundreds of thousands of member sets that hold none, one or two members (the
voters of a value set, the rows of a group, the downvoters counted against a live value set). An
empty ``set`` is 216 bytes and so is one of one member; a tuple of one is 48 and the empty tuple is
shared. So these containers start as tuples, are replaced (never mutated) while small, and become
a ``set`` past ``LIMIT`` members, where a tuple's linear membership test would start to cost.

Only membership, size and iteration are read from them, never the order, so the representation
is invisible to the state and replicas stay identical however their members arrived.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

T = TypeVar("T", bound=Hashable)

Members = tuple[T, ...] | set[T]

# Past this many members a set's hashed lookup is worth its size. A set of 9 to 32 members is 728
# to 2,264 bytes against 112 to 296 for the tuple, and a million-operation table holds tens of
# thousands of voter sets of 10 to 25 (docs/scale.md, "Memory"); a scan of 32 interned strings is
# still a fraction of a microsecond.
LIMIT = 32


def added(members: Members[T], member: T) -> Members[T]:
    """``members`` with ``member`` (the same object when it is a set, which is updated in place)."""
    if isinstance(members, set):
        members.add(member)
        return members
    if member in members:
        return members
    if len(members) < LIMIT:
        return (*members, member)
    grown = set(members)
    grown.add(member)
    return grown


def discarded(members: Members[T], member: T) -> Members[T]:
    """``members`` without ``member`` (a set is updated in place; a tuple is replaced)."""
    if isinstance(members, set):
        members.discard(member)
        return members
    if member not in members:
        return members
    return tuple(m for m in members if m != member)


def compact(members: set[T]) -> Members[T]:
    """A freshly built set as the smallest holder of its members (for storing, not for updating)."""
    if len(members) <= LIMIT:
        return tuple(members)
    return members
