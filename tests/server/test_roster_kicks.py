"""A revocation that lands while a worker is connecting still ends that connection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from socketio import packet as sio_packet

from crowdfill.server.roster import LINK_KIND
from crowdfill.store import open_store
from crowdfill.store.port import Store
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.raw_socket import RawSocket
from tests.support.requester import CAPITALS, create_table, worker_token


class HeldLinkRead:
    """A store whose next read of a link returns what it read, but only once ``release`` is set."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.hold = False
        self.reached = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_item(self, table_id: str, kind: str, key: str) -> Any:
        value = await self.inner.get_item(table_id, kind, key)
        if self.hold and kind == LINK_KIND:
            self.hold = False
            self.reached.set()
            while not self.release.is_set():  # the server's loop keeps serving meanwhile
                await asyncio.sleep(0.005)
        return value


@pytest.fixture
def held() -> Iterator[tuple[LiveServer, HeldLinkRead]]:
    store = HeldLinkRead(open_store("memory://"))
    with live_server(test_settings(), store=store) as running:
        yield running, store


async def until(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("action", ["revoke", "block"])
async def test_a_connection_admitted_just_before_a_revocation_or_block_is_kicked(
    held: tuple[LiveServer, HeldLinkRead], action: str
) -> None:
    server, store = held
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=10) as http:
        table = await create_table(http, CAPITALS)
        token = await worker_token(http, table["id"], "ann")
        raw = await RawSocket.open(server.base_url)
        store.hold = True
        connecting = asyncio.ensure_future(raw.join("/worker", {"token": token}))
        await until(store.reached)  # admission has read the link: it is not revoked yet
        if action == "revoke":
            assert (await http.delete(f"/api/tables/{table['id']}/links/ann")).status_code == 200
        else:
            assert (await http.post(f"/api/tables/{table['id']}/workers/ann/block")).status_code == 200
        store.release.set()
        assert (await connecting).packet_type == sio_packet.CONNECT
        kicked = await raw.event("/worker", "kicked")
        assert kicked["code"] == ("link_revoked" if action == "revoke" else "worker_blocked")
        await raw.wait_for(lambda p: p.packet_type == sio_packet.DISCONNECT and p.namespace == "/worker")
        await raw.close()
