"""Who is connected: worker sessions and monitors by socket id, per table."""

from __future__ import annotations

import collections
from dataclasses import dataclass


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
        counts: collections.Counter[str] = collections.Counter()
        for session in self.sessions(table_id):
            counts[session.worker_id] += 1
        return dict(counts)
