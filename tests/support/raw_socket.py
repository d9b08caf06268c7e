"""A Socket.IO client at the packet level: sends any text a hostile client could, reads every reply.

``socketio.AsyncClient`` only sends well-formed packets; this speaks Engine.IO through
``engineio.AsyncClient`` over a real websocket and writes the Socket.IO framing by hand::

    raw = await RawSocket.open(server.base_url)
    await raw.join("/worker", {"token": token})
    await raw.send('42/worker,7["fill",{"row_id": "x"}]')
    ack = await raw.ack("/worker", 7)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import engineio
from socketio import packet as sio_packet


class RawSocket:
    def __init__(self) -> None:
        self.eio = engineio.AsyncClient()
        self.received: list[sio_packet.Packet] = []
        self._arrived = asyncio.Event()
        self.eio.on("message", self._on_message)

    @classmethod
    async def open(cls, base_url: str) -> RawSocket:
        raw = cls()
        await raw.eio.connect(base_url, transports=["websocket"], engineio_path="socket.io")
        return raw

    async def _on_message(self, data: Any) -> None:
        received = sio_packet.Packet(encoded_packet=data)
        received.namespace = received.namespace or "/"
        self.received.append(received)
        self._arrived.set()

    async def send(self, text: str) -> None:
        """Send ``text`` as one Engine.IO message (the Socket.IO packet, framing included)."""
        await self.eio.send(text)

    async def join(self, namespace: str, auth: Any) -> sio_packet.Packet:
        """Connect to ``namespace``; the server's CONNECT or CONNECT_ERROR reply."""
        await self.send(f"0{namespace}," + json.dumps(auth))
        return await self.wait_for(
            lambda p: (
                p.namespace == namespace and p.packet_type in (sio_packet.CONNECT, sio_packet.CONNECT_ERROR)
            )
        )

    async def ack(self, namespace: str, ack_id: int, timeout: float = 5) -> Any:
        """The data of the server's ACK for ``ack_id`` on ``namespace``."""
        reply = await self.wait_for(
            lambda p: p.packet_type == sio_packet.ACK and p.namespace == namespace and p.id == ack_id,
            timeout,
        )
        [data] = reply.data
        return data

    async def event(self, namespace: str, name: str, timeout: float = 5) -> Any:
        """The payload of the first ``name`` event on ``namespace`` not yet taken."""
        reply = await self.wait_for(
            lambda p: p.packet_type == sio_packet.EVENT and p.namespace == namespace and p.data[0] == name,
            timeout,
        )
        return reply.data[1]

    async def wait_for(self, predicate: Any, timeout: float = 5) -> sio_packet.Packet:
        """Remove and return the first received packet matching ``predicate``, waiting for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index, received in enumerate(self.received):
                if predicate(received):
                    return self.received.pop(index)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no matching packet arrived; have {[p.data for p in self.received]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                continue

    @property
    def connected(self) -> bool:
        return bool(self.eio.state == "connected")

    async def close(self) -> None:
        if self.connected:
            await self.eio.disconnect()
