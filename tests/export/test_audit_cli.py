"""``crowdfill audit``: its registration and how it shows the server's answer (end to end: tests/server)."""

from __future__ import annotations

import argparse

from crowdfill.export import audit_cli

ANSWER = {
    "table_id": "t-1",
    "ok": False,
    "operations": 7,
    "completion_seq": 7,
    "checks": [
        {"name": "statuses", "ok": True, "detail": "3 row(s) as stored"},
        {"name": "payments", "ok": False, "detail": "payments differ: ann: stored 40, replayed 0 cents"},
    ],
    "log_digest": "sha256:aa",
    "outcome_digest": "sha256:bb",
}


def test_audit_is_registered_as_a_subcommand() -> None:
    root = argparse.ArgumentParser(prog="crowdfill")
    audit_cli.register(root.add_subparsers(dest="command", required=True))
    args = root.parse_args(["audit", "t-1", "--json"])
    assert (args.handler, args.table, args.json) == (audit_cli.handle_audit, "t-1", True)


def test_the_rendering_shows_each_verdict_the_digests_and_the_overall_result() -> None:
    lines = audit_cli.render(ANSWER).splitlines()
    assert lines[0] == "table t-1: 7 operations, completed at seq 7"
    assert lines[1].split(maxsplit=2) == ["statuses", "ok", "3 row(s) as stored"]
    assert lines[2].split(maxsplit=2)[:2] == ["payments", "MISMATCH"]
    assert "sha256:aa" in lines[3]
    assert "sha256:bb" in lines[4]
    assert lines[-1] == "audit: MISMATCH"


def test_a_table_the_template_has_not_completed_says_so() -> None:
    answer = {**ANSWER, "completion_seq": None, "ok": True, "checks": []}
    lines = audit_cli.render(answer).splitlines()
    assert lines[0] == "table t-1: 7 operations, not completed by the template"
    assert lines[-1] == "audit: ok"
