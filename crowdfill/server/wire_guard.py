"""The Socket.IO edge before any handler: every client message is decoded strictly and answered.

python-socketio decodes packets and dispatches them before our namespaces see anything; a packet
it cannot decode (bad JSON, a 101-digit number, deep nesting, an over-long ack id) raises inside
the library, which logs a traceback and answers nothing, and an event named ``connect`` or
``disconnect`` reaches the connection handlers. Here:

- ``StrictPacket`` decodes the Socket.IO framing by hand (ASCII digits only, bounded ack ids, no
  binary attachments: the protocol is JSON) and the payload with ``strict_json``; what it cannot
  take it raises as ``WireRefusal``, keeping the namespace and ack id it could read;
- ``GuardedServer`` answers each refusal: a CONNECT gets ``connect_error``, an event with a usable
  ack id gets ``{"ok": false, "error": {code, message}}`` as its ack, anything else an ``error``
  event ``{code, message}``; it lets through only the events a namespace handles (its ``on_<name>``
  methods, never ``connect``/``disconnect``/``connect_error``), and logs one line per refusal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from crowdfill.server import strict_json
from crowdfill.server.socket_writer import LeanEngine

logger = logging.getLogger(__name__)

# Socket.IO clients number acks from 0 up, one per call; 15 digits stay exact in JavaScript.
MAX_ACK_ID_DIGITS = 15
MAX_NAMESPACE_LENGTH = 100
MAX_EVENT_NAME_LENGTH = 64
RESERVED_EVENTS = frozenset({"connect", "disconnect", "connect_error"})
_CLIENT_TYPES = frozenset({sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK})
_BINARY_TYPES = frozenset({sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK})
_ACKED_TYPES = frozenset({sio_packet.EVENT, sio_packet.BINARY_EVENT})
_DIGITS = frozenset("0123456789")
# How a Socket.IO event of a namespace other than "/" starts in an Engine.IO message: "4" (an
# Engine.IO MESSAGE), "2" (a Socket.IO EVENT), the namespace.
_NOW_PREFIX = "42/"
# ``GuardedServer.handle_now``'s handlers: (sid, event, args, reply or None).
NowHandler = Callable[[str, str, list[Any], "Callable[[Any], None] | None"], None]


class WireRefusal(Exception):
    """A client message the server will not dispatch, with what could be read of where it came from."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        packet_type: int | None = None,
        namespace: str | None = None,
        ack_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.packet_type = packet_type
        self.namespace = namespace
        self.ack_id = ack_id


class StrictPacket(sio_packet.Packet):  # type: ignore[misc]  # socketio is untyped
    """A Socket.IO packet that decodes only what a CrowdFill client may send (see module docs)."""

    def decode(self, encoded_packet: Any) -> int:
        if not isinstance(encoded_packet, str):
            raise WireRefusal("malformed", "binary messages are not part of the protocol; send JSON text")
        text = encoded_packet
        if not text or text[0] not in _DIGITS:
            raise WireRefusal("malformed", f"unknown Socket.IO packet type {text[:1]!r}")
        self.packet_type = int(text[0])
        position = 1
        if self.packet_type in _BINARY_TYPES:
            # Skip the attachment count ("3-") only to find where the packet came from.
            dash = text.find("-", position, position + 12)
            if dash != -1 and set(text[position:dash]) <= _DIGITS:
                position = dash + 1
        self.namespace = None
        if text.startswith("/", position):
            end = text.find(",", position)
            end = len(text) if end == -1 else end
            namespace = text[position:end].partition("?")[0]
            if len(namespace) > MAX_NAMESPACE_LENGTH:
                raise WireRefusal("malformed", "the namespace is too long", packet_type=self.packet_type)
            self.namespace = namespace
            position = end + 1
        start = position
        while position < len(text) and text[position] in _DIGITS:
            position += 1
        self.id = None
        if position > start:
            if position - start > MAX_ACK_ID_DIGITS:
                raise WireRefusal(
                    "malformed",
                    f"the ack id has {position - start} digits; at most {MAX_ACK_ID_DIGITS} are allowed",
                    packet_type=self.packet_type,
                    namespace=self.namespace,
                )
            self.id = int(text[start:position])
        if self.packet_type not in _CLIENT_TYPES:
            kind = "binary packets" if self.packet_type in _BINARY_TYPES else f"packets of type {text[0]}"
            raise WireRefusal(
                "malformed",
                f"{kind} are not part of the protocol; send JSON events",
                packet_type=self.packet_type,
                namespace=self.namespace,
                ack_id=self.id,
            )
        body = text[position:]
        try:
            self.data = strict_json.loads(body) if body else None
        except strict_json.JsonRefused as refused:
            raise WireRefusal(
                refused.code,
                refused.message,
                packet_type=self.packet_type,
                namespace=self.namespace,
                ack_id=self.id,
            ) from refused
        return 0


class LogThrottle:
    """At most ``burst`` log lines per ``window`` seconds; the next line says how many were dropped."""

    def __init__(self, burst: int = 60, window: float = 60.0) -> None:
        self._burst = burst
        self._window = window
        self._started = 0.0
        self._count = 0
        self._dropped = 0

    def admit(self) -> tuple[bool, int]:
        now = time.monotonic()
        if now - self._started > self._window:
            self._started, self._count = now, 0
        self._count += 1
        if self._count > self._burst:
            self._dropped += 1
            return False, 0
        dropped, self._dropped = self._dropped, 0
        return True, dropped


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]  # socketio is untyped
    """``socketio.AsyncServer`` that refuses, answers and logs (one line) what a client must not send.

    ``lean_receive``: the events of namespaces given a synchronous handler (``handle_now``) are
    taken straight from the WebSocket reader (``receive_now``, crowdfill.server.socket_reader)."""

    def __init__(self, lean_receive: bool = True, **options: Any) -> None:
        super().__init__(serializer=StrictPacket, **options)
        self._throttle = LogThrottle()
        self._events: dict[str, tuple[object, frozenset[str]]] = {}
        self._now: dict[str, NowHandler] = {}
        if lean_receive:
            self.eio.receive_now = self.receive_now

    def handle_now(self, namespace: str, handler: NowHandler) -> None:
        """Give ``namespace``'s events (those its namespace handler has) a synchronous handler,
        called as ``handler(sid, event, args, reply)`` once the event passed every check of
        ``_handle_event``; ``reply(answer)`` (None when the client asked for no ack) sends
        ``answer`` as the event's ack. The handler must answer every outcome itself."""
        self._now[namespace] = handler

    def receive_now(self, eio_sid: str, message: str) -> bool:
        """Handle the Engine.IO ``message`` at once if it is a Socket.IO event for a namespace with
        a synchronous handler (every outcome answered, as on the libraries' path): True. False:
        not taken, the libraries dispatch it (``socket_reader.LeanReader`` calls this)."""
        if not message.startswith(_NOW_PREFIX):
            return False
        end = message.find(",", 3, 3 + MAX_NAMESPACE_LENGTH)
        handler = self._now.get(message[2:end]) if end != -1 else None
        if handler is None:
            return False
        try:
            self._event_now(eio_sid, message[1:], handler)
        except Exception:  # as on the libraries' path (a failed task): logged, the connection kept
            logger.exception("handling the event %.200r from %s failed", message, eio_sid)
        return True

    def _event_now(self, eio_sid: str, text: str, handler: NowHandler) -> None:
        # What ``_handle_eio_message`` and ``_handle_event`` do for an event, without their tasks.
        try:
            pkt = self.packet_class(encoded_packet=text)
        except WireRefusal as refusal:
            self._send_now(eio_sid, self._refusal_reply(eio_sid, refusal))
            return
        namespace, ack_id, data = pkt.namespace, pkt.id, pkt.data
        problem = self._event_problem(eio_sid, namespace, data)
        if problem is not None:
            code, message = problem
            unhandled = WireRefusal(
                code, message, packet_type=sio_packet.EVENT, namespace=namespace, ack_id=ack_id
            )
            self._send_now(eio_sid, self._refusal_reply(eio_sid, unhandled))
            return
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        reply = None if ack_id is None else _Reply(self, eio_sid, namespace, ack_id)
        handler(sid, data[0], data[1:], reply)

    def _send_now(self, eio_sid: str, pkt: sio_packet.Packet) -> None:
        """``_send_packet`` from synchronous code (our packets are JSON: one Engine.IO message)."""
        self.eio.send_now(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, data=pkt.encode()))

    def _engineio_server_class(self) -> type:
        # python-socketio's hook for its Engine.IO server: ours writes to WebSocket clients more
        # cheaply (crowdfill.server.socket_writer).
        return LeanEngine

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except WireRefusal as refusal:
            await self._answer(eio_sid, refusal)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        namespace = namespace or "/"
        problem = self._event_problem(eio_sid, namespace, data)
        if problem is not None:
            code, message = problem
            refusal = WireRefusal(code, message, packet_type=sio_packet.EVENT, namespace=namespace, ack_id=id)
            await self._answer(eio_sid, refusal)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    def _event_problem(self, eio_sid: str, namespace: str, data: Any) -> tuple[str, str] | None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            return "malformed", 'an event is a JSON array ["name", payload]'
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None or not self.manager.is_connected(sid, namespace):
            # python-socketio drops these without a word.
            return "not_connected", f"connect to the namespace {namespace!r} before sending events to it"
        handled = self.events(namespace)
        name = data[0]
        if name not in handled:
            shown = name if len(name) <= MAX_EVENT_NAME_LENGTH else name[:MAX_EVENT_NAME_LENGTH] + "..."
            return "unknown_event", f"unknown event {shown!r}; events: {sorted(handled)}"
        return None

    def events(self, namespace: str) -> frozenset[str]:
        """The client events of ``namespace``: its handler's ``on_<name>`` methods, minus reserved ones."""
        handler = self.namespace_handlers.get(namespace)
        if handler is None:
            return frozenset()
        known = self._events.get(namespace)
        if known is None or known[0] is not handler:
            names = {
                attribute[3:]
                for attribute in dir(handler)
                if attribute.startswith("on_") and callable(getattr(handler, attribute))
            }
            known = (handler, frozenset(names) - RESERVED_EVENTS)
            self._events[namespace] = known
        return known[1]

    async def _answer(self, eio_sid: str, refusal: WireRefusal) -> None:
        await self._send_packet(eio_sid, self._refusal_reply(eio_sid, refusal))

    def _refusal_reply(self, eio_sid: str, refusal: WireRefusal) -> sio_packet.Packet:
        """The answer to ``refusal`` (logged here, one line, throttled)."""
        namespace = refusal.namespace or "/"
        error = {"code": refusal.code, "message": refusal.message}
        if refusal.packet_type == sio_packet.CONNECT:
            reply = self.packet_class(
                sio_packet.CONNECT_ERROR,
                data={"message": refusal.message, "data": error},
                namespace=namespace,
            )
        elif refusal.packet_type in _ACKED_TYPES and refusal.ack_id is not None:
            reply = self.packet_class(
                sio_packet.ACK, namespace=namespace, id=refusal.ack_id, data=[{"ok": False, "error": error}]
            )
        else:
            reply = self.packet_class(sio_packet.EVENT, namespace=namespace, data=["error", error])
        admitted, dropped = self._throttle.admit()
        if admitted:
            suffix = f" ({dropped} more refused since the last line)" if dropped else ""
            logger.warning(
                "refused a socket message from %s on %r: %s: %s%s",
                eio_sid,
                namespace,
                refusal.code,
                refusal.message,
                suffix,
            )
        return reply


class _Reply:
    """Sends one event's ack (``GuardedServer.handle_now``'s ``reply``): ``[answer]`` as the
    libraries send a handler's return value, encoded and written at once, in order."""

    __slots__ = ("_ack_id", "_eio_sid", "_namespace", "_server")

    def __init__(self, server: GuardedServer, eio_sid: str, namespace: str, ack_id: int) -> None:
        self._server = server
        self._eio_sid = eio_sid
        self._namespace = namespace
        self._ack_id = ack_id

    def __call__(self, answer: Any) -> None:
        server = self._server
        pkt = server.packet_class(
            sio_packet.ACK, namespace=self._namespace, id=self._ack_id, data=[answer], binary=False
        )
        server._send_now(self._eio_sid, pkt)
