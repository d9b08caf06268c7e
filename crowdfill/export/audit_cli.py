"""``crowdfill audit TABLE``: ask the server to replay a table's log and show what it reproduces.

The replay runs on the server (``GET /api/tables/{id}/audit``, see docs/protocol.md); this command
prints one line per check and the two digests, and exits 1 when any check fails, so it can guard
a payout script.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crowdfill.client import ServerError
from crowdfill.client.options import add_server_options, requester_client

# Exit codes: every check passed / some check failed / the audit could not be run.
OK, MISMATCH, FAILED = 0, 1, 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit``."""
    parser = commands.add_parser(
        "audit", help="replay a table's log and check it reproduces its statuses, final table and payments"
    )
    parser.add_argument("table", help="table id")
    add_server_options(parser)
    parser.add_argument("--json", action="store_true", help="print the server's answer as JSON")
    parser.set_defaults(handler=handle_audit)


def handle_audit(args: argparse.Namespace) -> int:
    try:
        with requester_client(args) as client:
            answer = client.audit(args.table).model_dump(mode="json")
    except ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return FAILED
    if args.json:
        print(json.dumps(answer, indent=2, sort_keys=True))
    else:
        print(render(answer))
    return OK if answer.get("ok") is True else MISMATCH


def render(answer: dict[str, Any]) -> str:
    """The audit as lines a person reads: the verdict of every check, then the digests."""
    completion = answer.get("completion_seq")
    ended = f"completed at seq {completion}" if completion is not None else "not completed by the template"
    lines = [f"table {answer.get('table_id')}: {answer.get('operations')} operations, {ended}"]
    for check in answer.get("checks", []):
        verdict = "ok" if check.get("ok") else "MISMATCH"
        lines.append(f"  {check.get('name', '?'):<15} {verdict:<9} {check.get('detail', '')}")
    lines.append(f"  {'log digest':<15} {answer.get('log_digest')}")
    lines.append(f"  {'outcome digest':<15} {answer.get('outcome_digest')}")
    lines.append("audit: ok" if answer.get("ok") is True else "audit: MISMATCH")
    return "\n".join(lines)
