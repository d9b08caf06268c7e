"""Who may work on a table: signed worker links, platform (MTurk / Prolific) sessions, blocks.

Kept as small keyed records in the store (kinds ``link``, ``platform_session``, ``recruit_batch``,
``block``) so they survive restarts. Disconnecting live sessions is the socket layer's part (see
``presence``).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from crowdfill.markets.identity import MTURK_PREFIX, MTURK_PREVIEW_ASSIGNMENT, PROLIFIC_PREFIX
from crowdfill.model import CENTRAL_CLIENT
from crowdfill.server.events import NoEvents, TableEvents
from crowdfill.server.failures import Failure
from crowdfill.server.owner import DRAFT, LIVE
from crowdfill.server.recruit import RecruitSigner
from crowdfill.server.tables import BLOCK_KIND, Tables
from crowdfill.server.tokens import TokenSigner, WorkerClaims

LINK_KIND = "link"
PLATFORM_KIND = "platform_session"
BATCH_KIND = "recruit_batch"
_WORKER_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_PLATFORM_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
Platform = Literal["mturk", "prolific"]
# Worker ids (and platform link ids) carry their marketplace with the prefixes payment code expects.
_PREFIXES: dict[str, str] = {"mturk": MTURK_PREFIX, "prolific": PROLIFIC_PREFIX}


@dataclass(frozen=True)
class IssuedLink:
    worker_id: str
    link_id: str
    token: str
    created_at: float
    expires_at: float | None


def check_worker_id(worker_id: str) -> str:
    if not _WORKER_ID.fullmatch(worker_id) or worker_id == CENTRAL_CLIENT:
        raise Failure(
            "malformed",
            f"worker ids are 1 to 64 of A-Z a-z 0-9 _ . : - (and not {CENTRAL_CLIENT!r}), got {worker_id!r}",
        )
    return worker_id


def _check_platform_id(name: str, value: str) -> str:
    if not _PLATFORM_ID.fullmatch(value):
        raise Failure("malformed", f"{name} must be 1 to 64 of A-Z a-z 0-9 _ -, got {value!r}")
    return value


class Roster:
    def __init__(self, tables: Tables, signer: TokenSigner, recruit: RecruitSigner) -> None:
        self._tables = tables
        self._signer = signer
        self._recruit = recruit
        self.events: TableEvents = NoEvents()

    @property
    def _store(self) -> Any:
        return self._tables.store

    # ------------------------------------------------------------------ links
    async def create_link(
        self, table_id: str, worker_id: str | None, expires_in_seconds: int | None
    ) -> IssuedLink:
        await self._tables.record(table_id)
        worker = check_worker_id(worker_id) if worker_id else "w-" + secrets.token_hex(4)
        if expires_in_seconds is not None and expires_in_seconds <= 0:
            raise Failure("malformed", "expires_in_seconds must be a positive number of seconds")
        now = time.time()
        expires_at = now + expires_in_seconds if expires_in_seconds is not None else None
        link_id = secrets.token_hex(6)
        # One link per worker: a new link replaces the old one, which stops working.
        await self._store.put_item(
            table_id,
            LINK_KIND,
            worker,
            {"link_id": link_id, "created_at": now, "expires_at": expires_at, "revoked": False},
        )
        token = self._signer.sign(WorkerClaims(table_id, worker, link_id, expires_at))
        return IssuedLink(worker, link_id, token, now, expires_at)

    async def links(self, table_id: str) -> list[dict[str, Any]]:
        await self._tables.record(table_id)
        items: list[tuple[str, dict[str, Any]]] = await self._store.list_items(table_id, LINK_KIND)
        return [{"worker_id": worker, **value} for worker, value in items]

    def token_for(self, table_id: str, worker_id: str, link: dict[str, Any]) -> str:
        return self._signer.sign(WorkerClaims(table_id, worker_id, link["link_id"], link["expires_at"]))

    async def revoke(self, table_id: str, worker_id: str) -> None:
        await self._tables.record(table_id)
        link = await self._store.get_item(table_id, LINK_KIND, worker_id)
        if link is None:
            raise Failure("not_found", f"worker {worker_id!r} has no link on table {table_id!r}")
        await self._store.put_item(table_id, LINK_KIND, worker_id, {**link, "revoked": True})

    async def block(self, table_id: str, worker_id: str) -> None:
        await self._tables.record(table_id)
        check_worker_id(worker_id)
        await self._store.put_item(table_id, BLOCK_KIND, worker_id, {"at": time.time()})
        owner = self._tables.loaded(table_id)
        if owner is not None:
            owner.blocked.add(worker_id)
        await self.events.worker_blocked(table_id, worker_id)

    async def unblock(self, table_id: str, worker_id: str) -> None:
        """Lift a block: the worker may connect (with a link that still works) and act again."""
        await self._tables.record(table_id)
        check_worker_id(worker_id)
        if not await self._store.delete_item(table_id, BLOCK_KIND, worker_id):
            raise Failure("not_found", f"worker {worker_id!r} is not blocked on table {table_id!r}")
        owner = self._tables.loaded(table_id)
        if owner is not None:
            owner.blocked.discard(worker_id)

    async def blocked(self, table_id: str) -> set[str]:
        return {key for key, _ in await self._store.list_items(table_id, BLOCK_KIND)}

    # ------------------------------------------------------------------ recruiting URLs
    async def mturk_batch(self, table_id: str) -> tuple[str, str]:
        """A fresh publish batch for the table's HITs and its signature: (batch, signature)."""
        await self._tables.record(table_id)
        batch = "b" + secrets.token_hex(8)
        await self._store.put_item(table_id, BATCH_KIND, batch, {"hits": [], "at": time.time()})
        return batch, self._recruit.sign(table_id, "mturk", batch)

    async def record_batch_hits(self, table_id: str, batch: str, hit_ids: list[str]) -> list[str]:
        """Bind HITs to their batch: visits of the batch must then come with one of them as ``hitId``."""
        await self._tables.record(table_id)
        found = await self._store.get_item(table_id, BATCH_KIND, batch)
        if found is None:
            raise Failure("not_found", f"no publish batch {batch!r} on table {table_id!r}")
        for hit_id in hit_ids:
            _check_platform_id("a HIT id", hit_id)
        hits = sorted({*found.get("hits", []), *hit_ids})
        await self._store.put_item(table_id, BATCH_KIND, batch, {**found, "hits": hits})
        return hits

    async def prolific_signature(self, table_id: str, study_id: str) -> str:
        """The signature that admits participants of the Prolific study ``study_id`` to the table."""
        await self._tables.record(table_id)
        return self._recruit.sign(table_id, "prolific", _check_platform_id("study_id", study_id))

    async def _check_recruited(
        self, table_id: str, platform: Platform, ids: dict[str, str], signature: str | None, batch: str | None
    ) -> str | None:
        """Refuse a visit that did not come through a URL this server signed for the table.

        Returns the MTurk batch (None for Prolific), for the session record.
        """
        if not signature:
            raise Failure(
                "signature_missing",
                "this page was not opened from the requester's published link (no signature): "
                "open the task again from the marketplace",
            )
        scope = batch if platform == "mturk" else ids.get("study_id")
        if not scope or not self._recruit.valid(signature, table_id, platform, scope):
            raise Failure(
                "signature_invalid",
                f"the link's signature is not valid for this table and {platform} "
                + ("publish batch" if platform == "mturk" else "study"),
            )
        if platform != "mturk":
            return None
        found = await self._store.get_item(table_id, BATCH_KIND, scope)
        if found is None:
            raise Failure("signature_invalid", "the link's publish batch is not known on this server")
        hits = found.get("hits") or []
        if hits and ids.get("hit_id") not in hits:
            raise Failure("hit_foreign", "this HIT was not published for this table")
        return scope

    # ------------------------------------------------------------------ platforms
    async def platform_session(
        self,
        table_id: str,
        platform: Platform,
        platform_worker: str,
        ids: dict[str, str],
        signature: str | None = None,
        batch: str | None = None,
    ) -> tuple[str, str]:
        """A session token for a worker arriving from MTurk or Prolific: (worker id, token).

        One session per (platform, worker, table): a worker who asks again (a reload, a second HIT of
        the same table) gets the session they already have, so they remain one voter.
        """
        record = await self._tables.record(table_id)
        if record.status == DRAFT:
            raise Failure("table_not_found", f"no table with id {table_id!r}")
        if record.status != LIVE:
            raise Failure("table_not_live", f"table {table_id!r} is {record.status}; it takes no new workers")
        _check_platform_id("worker_id", platform_worker)
        for name, value in ids.items():
            if value == MTURK_PREVIEW_ASSIGNMENT:
                raise Failure("preview", "this is an MTurk preview: accept the HIT to start working")
            _check_platform_id(name, value)
        recruited_batch = await self._check_recruited(table_id, platform, ids, signature, batch)
        prefix = _PREFIXES[platform]
        worker = prefix + platform_worker
        if worker in await self.blocked(table_id):
            raise Failure("worker_blocked", "you have been blocked from this table")
        existing = await self._store.get_item(table_id, PLATFORM_KIND, worker)
        if existing is not None:
            assignments = existing.get("assignments") or [existing.get("assignment_id")]
            assignment = ids.get("assignment_id")
            if assignment and assignment not in assignments:
                # Kept for the requester's records; payment verifies assignments with MTurk itself.
                await self._store.put_item(
                    table_id,
                    PLATFORM_KIND,
                    worker,
                    {**existing, "assignments": [*assignments, assignment]},
                )
            return worker, self._signer.sign(WorkerClaims(table_id, worker, str(existing["link_id"])))
        session = ids.get("assignment_id") or ids.get("session_id") or secrets.token_hex(6)
        link_id = prefix + session
        extra: dict[str, Any] = {}
        if platform == "mturk":
            extra = {"batch": recruited_batch, "assignments": [ids.get("assignment_id")]}
        await self._store.put_item(
            table_id,
            PLATFORM_KIND,
            worker,
            {
                "platform": platform,
                "platform_worker_id": platform_worker,
                **ids,
                **extra,
                "link_id": link_id,
                "at": time.time(),
            },
        )
        return worker, self._signer.sign(WorkerClaims(table_id, worker, link_id))

    # ------------------------------------------------------------------ admission
    async def admit(self, token: object, table_hint: object = None) -> WorkerClaims:
        """The claims of a session that may join now, or the Failure that explains why not."""
        claims = await self._admit(token, table_hint)
        await self.events.worker_admitted(claims.table_id, claims.worker_id)
        return claims

    async def _admit(self, token: object, table_hint: object) -> WorkerClaims:
        claims = self._signer.verify(token)
        if table_hint is not None and table_hint != claims.table_id:
            raise Failure("token_foreign", "this session token belongs to another table")
        record = await self._tables.record(claims.table_id)
        if record.status == DRAFT:
            raise Failure("table_not_live", "the table has not been launched yet")
        if claims.worker_id in await self.blocked(claims.table_id):
            raise Failure("worker_blocked", "you have been blocked from this table")
        if claims.link_id.startswith((MTURK_PREFIX, PROLIFIC_PREFIX)):
            session = await self._store.get_item(claims.table_id, PLATFORM_KIND, claims.worker_id)
            if session is None or session.get("link_id") != claims.link_id:
                raise Failure("token_invalid", "this platform session is not known")
            return claims
        link = await self._store.get_item(claims.table_id, LINK_KIND, claims.worker_id)
        if link is None or link.get("link_id") != claims.link_id or link.get("revoked"):
            raise Failure("link_revoked", "this link has been revoked; ask the requester for a new one")
        return claims
