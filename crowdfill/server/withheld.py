"""Which of a follower's forwards may skip their sender: only those the sender gets an ack for.

A follower forwards each broadcast batch to its clients minus each operation's sender, who is
answered with an acknowledgement instead (``crowdfill.server.delivery``). The sequencing process
broadcasts a batch before it answers the followers whose operations are in it, and that answer can
be lost: the sequencer is killed between the two, or it answers after the follower stopped
waiting (``forward_timeout_seconds``). The sender is then told "unknown, retry" about an operation
that is in the log, and without this it would never receive that operation, so its seq would stay
one short for good (issue 18).

So a follower withholds an operation from its sender only while that sender has a forward
waiting for its answer, and keeps what it withheld; when the sender's last waiting forward ends,
whatever was withheld and not acknowledged is due to the sender. An operation whose sender has
nothing waiting here (its answer already came back as a failure) goes to the sender like to
everyone else. Broadcasts arrive before the answers they precede (one Redis connection keeps
their order, ``crowdfill.cluster.bus``), so an acknowledged operation is always withheld first.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence

from crowdfill.server.owner import Published


class Withheld:
    """The forwards a follower process held back from the senders it has waiting forwards for."""

    def __init__(self) -> None:
        self._waiting: collections.Counter[str] = collections.Counter()
        self._held: dict[str, list[Published]] = {}

    def begin(self, origin: str | None) -> None:
        """``origin`` (a session here) sent an operation on to the sequencer and waits for the answer."""
        if origin is not None:
            self._waiting[origin] += 1

    def addressed(self, entries: Sequence[Published]) -> list[Published]:
        """``entries`` as this process forwards them: a sender is left out only while it waits."""
        forwarded: list[Published] = []
        for entry in entries:
            if entry.origin is None:
                forwarded.append(entry)
            elif self._waiting[entry.origin] > 0:
                self._held.setdefault(entry.origin, []).append(entry)
                forwarded.append(entry)
            else:
                forwarded.append(dataclasses.replace(entry, origin=None))
        return forwarded

    def end(self, origin: str | None, acked_seq: int | None) -> list[Published]:
        """The answer came (``acked_seq``: the seq it acknowledged, None for a failure or none at all).

        Returns the withheld entries now due to ``origin``, in seq order (none while another of its
        forwards still waits: that one's answer may be the acknowledgement of one of them).
        """
        if origin is None or self._waiting[origin] <= 0:
            return []
        self._waiting[origin] -= 1
        held = [entry for entry in self._held.get(origin, []) if entry.seq != acked_seq]
        if self._waiting[origin] > 0:
            self._held[origin] = held
            return []
        del self._waiting[origin]
        self._held.pop(origin, None)
        return sorted(held, key=lambda entry: entry.seq)
