"""A launched table with scripted workers connected to it: the usual opening of a server test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.live_server import LiveServer
from tests.support.requester import create_table, worker_token
from tests.support.worker_client import WorkerClient


async def join(server: LiveServer, http: httpx.AsyncClient, table_id: str, *names: str) -> list[WorkerClient]:
    """Connect one scripted worker per name to the table, each through its own link."""
    workers = []
    for name in names:
        worker = WorkerClient(server.base_url, await worker_token(http, table_id, name))
        await worker.connect()
        workers.append(worker)
    return workers


@dataclass
class Crowd:
    table: dict[str, Any]
    workers: list[WorkerClient]

    def row_id(self, **values: Any) -> str:
        """The one row, as the first worker sees it, whose values are exactly ``values``.

        Right after launch these are the template rows the central client inserted.
        """
        matches = [rid for rid, seen in self.workers[0].rows().items() if dict(seen) == values]
        assert len(matches) == 1, (values, self.workers[0].rows())
        return matches[0]

    async def disconnect(self) -> None:
        for worker in self.workers:
            await worker.disconnect()


async def crowd(
    server: LiveServer, http: httpx.AsyncClient, definition: dict[str, Any], *names: str
) -> Crowd:
    """Create and launch a table from ``definition`` and connect a worker for each name."""
    table = await create_table(http, definition)
    return Crowd(table, await join(server, http, table["id"], *names))
