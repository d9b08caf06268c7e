"""The registered hooks of every table, kept in the store and cached in memory.

The cache answers "has this table any hook?" without touching the store, so tables without hooks
pay nothing for webhooks on their hot path.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from crowdfill.store.port import JSON, Store
from crowdfill.wire.webhooks import EVENT_TYPES

HOOK_KIND = "webhook"


class HookError(ValueError):
    """A registration that cannot be accepted (a URL that is not http(s), an unknown hook)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HookError("malformed", f"a webhook URL must be http:// or https:// with a host, got {url!r}")
    return url


class Hooks:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_table: dict[str, dict[str, JSON]] = {}

    async def load(self, table_ids: list[str]) -> None:
        """Fill the cache from the store (at startup)."""
        for table_id in table_ids:
            found = dict(await self._store.list_items(table_id, HOOK_KIND))
            if found:
                self._by_table[table_id] = found

    def any(self, table_id: str) -> bool:
        return bool(self._by_table.get(table_id))

    def of(self, table_id: str) -> list[JSON]:
        return list(self._by_table.get(table_id, {}).values())

    def get(self, table_id: str, hook_id: str) -> JSON | None:
        return self._by_table.get(table_id, {}).get(hook_id)

    async def add(self, table_id: str, url: str, events: list[str] | None) -> JSON:
        hook: dict[str, Any] = {
            "hook_id": "h-" + secrets.token_hex(6),
            "table_id": table_id,
            "url": check_url(url),
            "events": sorted(set(events)) if events else list(EVENT_TYPES),
            # The receiver's key for checking signatures; shown to the requester, never sent.
            "secret": "whsec_" + secrets.token_hex(24),
            "created_at": time.time(),
        }
        await self._store.put_item(table_id, HOOK_KIND, hook["hook_id"], hook)
        self._by_table.setdefault(table_id, {})[hook["hook_id"]] = hook
        return hook

    async def remove(self, table_id: str, hook_id: str) -> None:
        if not await self._store.delete_item(table_id, HOOK_KIND, hook_id):
            raise HookError("not_found", f"table {table_id!r} has no webhook {hook_id!r}")
        self._by_table.get(table_id, {}).pop(hook_id, None)
