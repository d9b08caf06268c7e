"""Who is connected: worker sessions and monitors by socket id, per table."""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass

# Several processes: another process's reported sessions count for this long after its last report.
REMOTE_TTL_S = 3.0


@dataclass(frozen=True)
class WorkerSession:
    sid: str
    table_id: str
    worker_id: str
    link_id: str


class Presence:
    def __init__(self) -> None:
        self._workers: dict[str, WorkerSession] = {}
        self._by_table: dict[str, set[str]] = collections.defaultdict(set)
        self._monitors: dict[str, str] = {}
        self._monitors_by_table: dict[str, set[str]] = collections.defaultdict(set)
        # table id -> node -> (when reported, worker id -> sessions), from the other processes.
        self._remote: dict[str, dict[str, tuple[float, dict[str, int]]]] = collections.defaultdict(dict)

    def add_worker(self, session: WorkerSession) -> None:
        self._workers[session.sid] = session
        self._by_table[session.table_id].add(session.sid)

    def worker(self, sid: str) -> WorkerSession | None:
        return self._workers.get(sid)

    def knows(self, sid: str) -> bool:
        return sid in self._workers or sid in self._monitors

    def remove(self, sid: str) -> str | None:
        """Forget a socket; the table it was on, if any."""
        session = self._workers.pop(sid, None)
        if session is not None:
            self._by_table[session.table_id].discard(sid)
            return session.table_id
        table_id = self._monitors.pop(sid, None)
        if table_id is not None:
            self._monitors_by_table[table_id].discard(sid)
        return table_id

    def add_monitor(self, sid: str, table_id: str) -> None:
        self._monitors[sid] = table_id
        self._monitors_by_table[table_id].add(sid)

    def has_monitors(self, table_id: str) -> bool:
        return bool(self._monitors_by_table.get(table_id))

    def sessions(self, table_id: str) -> list[WorkerSession]:
        return [self._workers[sid] for sid in sorted(self._by_table.get(table_id, ()))]

    def matching(self, table_id: str, worker_id: str, link_id: str | None = None) -> list[WorkerSession]:
        return [
            s
            for s in self.sessions(table_id)
            if s.worker_id == worker_id and (link_id is None or s.link_id == link_id)
        ]

    def online(self, table_id: str) -> dict[str, int]:
        """Sessions per worker: this process's, plus what the other processes reported lately."""
        counts = collections.Counter(self.local_online(table_id))
        now = time.monotonic()
        for at, theirs in self._remote.get(table_id, {}).values():
            if now - at < REMOTE_TTL_S:
                counts.update(theirs)
        return dict(counts)

    def local_online(self, table_id: str) -> dict[str, int]:
        counts: collections.Counter[str] = collections.Counter()
        for session in self.sessions(table_id):
            counts[session.worker_id] += 1
        return dict(counts)

    def tables_online(self) -> list[str]:
        """Tables with a worker session on this process."""
        return [table_id for table_id, sids in self._by_table.items() if sids]

    def note_remote(self, table_id: str, node: str, counts: dict[str, int]) -> None:
        """Another process's sessions on the table (several processes; an empty report clears it)."""
        self._remote[table_id][node] = (time.monotonic(), counts)
