"""Presence: this process's sessions plus the other processes' recent reports (several processes)."""

from __future__ import annotations

import pytest

from crowdfill.server import presence as presence_module
from crowdfill.server.presence import Presence, WorkerSession


def test_online_counts_this_process_sessions_and_the_other_processes_reports() -> None:
    presence = Presence()
    presence.add_worker(WorkerSession("s1", "t1", "ann", "l1"))
    presence.note_remote("t1", "node-b", {"ann": 1, "bob": 2})
    presence.note_remote("t2", "node-b", {"cem": 1})
    assert presence.online("t1") == {"ann": 2, "bob": 2}
    assert presence.local_online("t1") == {"ann": 1}
    assert presence.tables_online() == ["t1"]


def test_an_empty_report_clears_a_process_and_a_silent_one_lapses(monkeypatch: pytest.MonkeyPatch) -> None:
    presence = Presence()
    presence.note_remote("t1", "node-b", {"bob": 1})
    presence.note_remote("t1", "node-c", {"cem": 1})
    presence.note_remote("t1", "node-b", {})
    assert presence.online("t1") == {"cem": 1}
    monkeypatch.setattr(presence_module, "REMOTE_TTL_S", 0.0)  # node-c stopped reporting long ago
    assert presence.online("t1") == {}
