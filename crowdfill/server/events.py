"""Lifecycle moments outside the owner's loop that other parts want to hear about (webhooks).

``Tables`` and ``Roster`` call these; ``NoEvents`` is what they call until the composition root
(``app.py``) plugs in the webhooks.
"""

from __future__ import annotations

from typing import Protocol


class TableEvents(Protocol):
    async def table_launched(self, table_id: str) -> None: ...

    async def worker_admitted(self, table_id: str, worker_id: str) -> None: ...

    async def worker_blocked(self, table_id: str, worker_id: str) -> None: ...


class NoEvents:
    async def table_launched(self, table_id: str) -> None:
        return None

    async def worker_admitted(self, table_id: str, worker_id: str) -> None:
        return None

    async def worker_blocked(self, table_id: str, worker_id: str) -> None:
        return None
