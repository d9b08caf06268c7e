"""``crowdfill links ...`` and ``crowdfill workers ...``: manual worker links and worker blocks.

Both talk to a running CrowdFill server over its requester REST API (docs/protocol.md, "Worker
links (manual recruitment)"); nothing is kept locally. The parsers are registered in ``cli.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crowdfill.export.rest import ServerError, requester_token, server_url, table_path
from crowdfill.markets.money import cents_to_amount
from crowdfill.markets.remote import RequesterApi


@dataclass(frozen=True)
class Link:
    worker_id: str
    url: str | None
    expires_at: float | None
    revoked: bool


@dataclass(frozen=True)
class Worker:
    worker_id: str
    online: bool
    sessions: int
    ops: int
    estimated_cents: int
    blocked: bool


class LinksApi(RequesterApi):
    """The link, block and worker endpoints of the requester REST API (``block`` is inherited)."""

    def create_link(self, table_id: str, worker_id: str | None, expires_in_seconds: int | None) -> Link:
        """``POST /api/tables/{id}/links``: a new signed link (it replaces the worker's old one)."""
        body: dict[str, Any] = {}
        if worker_id is not None:
            body["worker_id"] = worker_id
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = expires_in_seconds
        path = table_path(table_id, "links")
        answer = self.call("POST", path, body=body)
        if not isinstance(answer, dict):
            raise ServerError(f"POST {path} did not answer an object")
        return _link(answer, path)

    def links(self, table_id: str) -> list[Link]:
        """``GET /api/tables/{id}/links``: every worker's link, revoked ones included."""
        path = table_path(table_id, "links")
        return [_link(entry, path) for entry in _entries(self.get_object(path), "links", path)]

    def revoke(self, table_id: str, worker_id: str) -> None:
        """``DELETE /api/tables/{id}/links/{worker_id}``: the link stops working at once."""
        self.call("DELETE", table_path(table_id, "links", worker_id))

    def unblock(self, table_id: str, worker_id: str) -> None:
        self.call("DELETE", table_path(table_id, "workers", worker_id, "block"))

    def workers(self, table_id: str) -> list[Worker]:
        """``GET /api/tables/{id}/workers``: online, blocked, or with operations on the table."""
        path = table_path(table_id, "workers")
        return [_worker(entry, path) for entry in _entries(self.get_object(path), "workers", path)]


def _entries(answer: dict[str, Any], field: str, path: str) -> list[dict[str, Any]]:
    entries = answer.get(field)
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ServerError(f"GET {path} did not answer a list of {field}")
    return entries


def _link(entry: dict[str, Any], path: str) -> Link:
    worker, url, expires = entry.get("worker_id"), entry.get("url"), entry.get("expires_at")
    if not isinstance(worker, str) or not (url is None or isinstance(url, str)):
        raise ServerError(f"{path} answered a link without a worker id or url: {entry!r}"[:300])
    if isinstance(expires, bool) or not (expires is None or isinstance(expires, int | float)):
        raise ServerError(f"{path} answered a link whose expiry is not a time: {expires!r}")
    return Link(worker, url, None if expires is None else float(expires), entry.get("revoked") is True)


def _worker(entry: dict[str, Any], path: str) -> Worker:
    worker = entry.get("worker_id")
    counts = [entry.get(name, 0) for name in ("sessions", "ops", "estimated_cents")]
    if not isinstance(worker, str) or any(isinstance(n, bool) or not isinstance(n, int) for n in counts):
        raise ServerError(f"{path} answered a worker entry it should not have: {entry!r}"[:300])
    sessions, ops, cents = counts
    return Worker(worker, entry.get("online") is True, sessions, ops, cents, entry.get("blocked") is True)


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


def api(args: argparse.Namespace) -> LinksApi:
    return LinksApi(server_url(args), requester_token(args))


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


def _worker_action(args: argparse.Namespace, act: Callable[[LinksApi], None], done: str) -> int:
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
        args, lambda c: c.revoke(args.table, args.worker), f"revoked the link of {args.worker}"
    )


def handle_block(args: argparse.Namespace) -> int:
    return _worker_action(args, lambda c: c.block(args.table, args.worker), f"blocked {args.worker}")


def handle_unblock(args: argparse.Namespace) -> int:
    return _worker_action(args, lambda c: c.unblock(args.table, args.worker), f"unblocked {args.worker}")


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
