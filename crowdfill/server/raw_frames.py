"""Whole WebSocket frames written straight to uvicorn's transport, built once per packet.

A frame from the server to a client is not masked (RFC 6455, 5.1), so the bytes of a frame do not
depend on the connection: a packet that goes to a whole room (``crowdfill.server.delivery``
encodes one per distinct recipient list) can be framed once and the same bytes written to every
recipient. ``packet_frame`` does that (the frame is kept on the packet, as python-engineio keeps
its encoding), and ``FramedWebSocket`` writes it to the connection's transport itself instead of
going through the ASGI ``send``, uvicorn's protocol and websockets' framing for every recipient.

Only where that is safe, else the ordinary ``send`` (``framed`` decides, per connection):

- **uvicorn's sans-I/O protocol only** (``--ws websockets-sansio``, ``crowdfill serve``'s
  default): reached through the ASGI ``send`` callable, a method bound to that protocol object;
  wrapped or other implementations keep the ordinary path. Its other writes (the accept, pings,
  pongs, the close) are each one ``transport.write`` of whole frames on the event loop, so a raw
  write never lands inside one of them.
- **Extensions:** only permessage-deflate may be negotiated (the one uvicorn offers). A message
  sent uncompressed (RSV1 = 0) is allowed on a connection that negotiated it (RFC 7692, 6.1) and
  leaves both ends' compression contexts untouched: the client only inflates frames with RSV1 set.
- **Open and writable:** the protocol has sent no close and seen no disconnect, the transport is
  not closing and its buffer is under the high-water mark (uvicorn's ``writable``). Otherwise the
  frame goes through the ordinary ``send``, which waits for the transport to drain; while such a
  write is in flight, later ones wait behind it (``_waiting``), so none jumps ahead.

Order with the connection's own writer (python-engineio's queue) is kept by the caller
(``crowdfill.server.socket_writer``): a packet is written at once only when the writer is idle
on an empty queue; queued packets go out through this wrapper's ``send`` in their turn.
"""

from __future__ import annotations

import logging
import struct
from typing import Any

from engineio import packet as eio_packet

logger = logging.getLogger(__name__)

_TEXT = 0x81  # FIN + text opcode
_BINARY = 0x82  # FIN + binary opcode
_FRAME = "_crowdfill_frame"  # where packet_frame keeps a packet's frame
# What FramedWebSocket reads of uvicorn's protocol (uvicorn is not pinned: checked per connection).
_PROTOCOL_ATTRIBUTES = ("transport", "writable", "close_sent", "disconnected", "conn")


def websocket_frame(message: str | bytes) -> bytes:
    """One unmasked, uncompressed, unfragmented WebSocket frame holding ``message`` (text for a
    str, binary for bytes), with the payload length in 7, 16 or 64 bits as it needs."""
    if isinstance(message, str):
        head, payload = _TEXT, message.encode()
    else:
        head, payload = _BINARY, bytes(message)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", head, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", head, 126, length)
    else:
        header = struct.pack("!BBQ", head, 127, length)
    return header + payload


def packet_frame(pkt: eio_packet.Packet) -> bytes:
    """The WebSocket frame carrying an Engine.IO packet, built at its first use and then reused
    (a packet sent to a whole room is framed once)."""
    frame: bytes | None = getattr(pkt, _FRAME, None)
    if frame is None:
        frame = websocket_frame(pkt.encode())
        setattr(pkt, _FRAME, frame)
    return frame


class FramedWebSocket:
    """python-engineio's ASGI WebSocket (``wait``, ``send``, ``close``) whose sends write whole
    frames to uvicorn's transport when it can take them (module docstring)."""

    def __init__(self, ws: Any, protocol: Any) -> None:
        self._ws = ws
        self._protocol = protocol
        self._waiting = 0  # ordinary sends in flight: later frames must not pass them
        self.written = 0  # frames written straight to the transport (tests and diagnostics read it)

    def open_transport(self) -> Any:
        """The transport if a frame written to it now goes out in its turn on an open connection,
        else None (then the frame takes ``send``'s waiting path). The caller writes the frame and
        counts it in ``written``: a forward calls this once per recipient, so it is one call."""
        protocol = self._protocol
        if self._waiting or protocol.close_sent or protocol.disconnected or not protocol.writable.is_set():
            return None
        transport = protocol.transport
        return None if transport.is_closing() else transport

    async def send(self, message: str | bytes) -> None:
        transport = self.open_transport()
        if transport is not None:
            transport.write(websocket_frame(message))
            self.written += 1
            return
        self._waiting += 1
        try:
            await self._ws.send(message)
        finally:
            self._waiting -= 1

    @property
    def protocol(self) -> Any:
        """uvicorn's sans-I/O protocol of this connection."""
        return self._protocol

    @property
    def transport(self) -> Any:
        return self._protocol.transport

    async def wait(self) -> Any:
        return await self._ws.wait()

    async def close(self) -> None:
        await self._ws.close()


def framed(ws: Any) -> FramedWebSocket | None:
    """``ws`` wrapped for raw frames when it runs on uvicorn's sans-I/O protocol with nothing
    between them and no extension but permessage-deflate, else None (keep the ordinary path)."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
        from websockets.extensions.permessage_deflate import PerMessageDeflate
    except ImportError:  # the websockets package is missing: uvicorn serves with another implementation
        return None
    send = getattr(ws, "asgi_send", None)
    protocol = getattr(send, "__self__", None)
    if type(protocol) is not WebSocketsSansIOProtocol:
        return None
    if getattr(send, "__func__", None) is not WebSocketsSansIOProtocol.send:
        return None
    if not all(hasattr(protocol, name) for name in _PROTOCOL_ATTRIBUTES):
        logger.debug("uvicorn's protocol lacks one of %s: raw frames stay off", _PROTOCOL_ATTRIBUTES)
        return None
    extensions = protocol.conn.extensions
    if not all(type(extension) is PerMessageDeflate for extension in extensions):
        logger.debug("extensions %r negotiated: raw frames stay off for this connection", extensions)
        return None
    return FramedWebSocket(ws, protocol)
