"""``crowdfill links ...`` and ``crowdfill workers ...``: manual worker links and worker blocks.

Both talk to a running CrowdFill server over its requester REST API (docs/protocol.md, "Worker
links (manual recruitment)"); nothing is kept locally. The parsers are registered in ``cli.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from crowdfill.client import Client, ServerError
from crowdfill.client.options import requester_client
from crowdfill.markets.money import cents_to_amount
from crowdfill.wire.answers import Link, Worker

__all__ = ["Link", "Worker", "format_time", "link_lines", "link_state", "worker_lines"]


# ---------------------------------------------------------------------- output


def format_time(moment: float | None) -> str:
    """A Unix time as ``2026-11-25 19:00Z``; ``never`` for None."""
    if moment is None:
        return "never"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%MZ")


def link_state(link: Link, now: float) -> str:
    if link.revoked:
        return "revoked"
    if link.expires_at is not None and now >= link.expires_at:
        return "expired"
    return "active"


def columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned under a header, two spaces between columns."""
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def link_lines(links: Sequence[Link], now: float) -> list[str]:
    rows = [
        (link.worker_id, format_time(link.expires_at), link_state(link, now), link.url or "")
        for link in links
    ]
    return columns(("worker", "expires", "state", "url"), rows)


def worker_lines(workers: Sequence[Worker]) -> list[str]:
    rows = [
        (
            w.worker_id,
            f"yes ({w.sessions})" if w.online else "no",
            str(w.ops),
            cents_to_amount(max(w.estimated_cents, 0)),
            "blocked" if w.blocked else "-",
        )
        for w in workers
    ]
    return columns(("worker", "online", "ops", "estimated", "blocked"), rows)


# ---------------------------------------------------------------------- commands


def api(args: argparse.Namespace) -> Client:
    return requester_client(args)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def handle_create(args: argparse.Namespace) -> int:
    if args.worker_id is not None and args.count != 1:
        return _fail("--count makes links for fresh worker ids; leave out --worker-id", 2)
    created: list[Link] = []
    failure: ServerError | None = None
    try:
        with api(args) as client:
            for _ in range(args.count):
                created.append(client.create_link(args.table, args.worker_id, args.expires_in))
    except ServerError as error:
        failure = error
    # Links made before a failure work; print them so that none is lost.
    for link in created:
        print(f"{link.worker_id}\t{link.url or ''}")
    return 0 if failure is None else _fail(str(failure))


def handle_list(args: argparse.Namespace) -> int:
    try:
        with api(args) as client:
            links = client.links(args.table)
    except ServerError as error:
        return _fail(str(error))
    if not links:
        print(f"no links for table {args.table}")
        return 0
    print("\n".join(link_lines(links, time.time())))
    return 0


def _worker_action(args: argparse.Namespace, act: Callable[[Client], object], done: str) -> int:
    """Run one call about ``args.worker`` on ``args.table``; say ``done`` or the server's refusal."""
    try:
        with api(args) as client:
            act(client)
    except ServerError as error:
        return _fail(str(error))
    print(f"{done} on table {args.table}")
    return 0


def handle_revoke(args: argparse.Namespace) -> int:
    return _worker_action(
        args, lambda c: c.revoke_link(args.table, args.worker), f"revoked the link of {args.worker}"
    )


def handle_block(args: argparse.Namespace) -> int:
    return _worker_action(args, lambda c: c.block(args.table, args.worker), f"blocked {args.worker}")


def handle_unblock(args: argparse.Namespace) -> int:
    return _worker_action(args, lambda c: c.unblock(args.table, args.worker), f"unblocked {args.worker}")


def handle_exclude(args: argparse.Namespace) -> int:
    return _worker_action(args, lambda c: c.exclude(args.table, args.worker), f"excluded {args.worker}")


def handle_include(args: argparse.Namespace) -> int:
    return _worker_action(
        args, lambda c: c.include(args.table, args.worker), f"undid the exclusion of {args.worker}"
    )


def handle_workers(args: argparse.Namespace) -> int:
    try:
        with api(args) as client:
            workers = client.workers(args.table)
    except ServerError as error:
        return _fail(str(error))
    if not workers:
        print(f"no workers on table {args.table} yet")
        return 0
    print("\n".join(worker_lines(workers)))
    return 0
