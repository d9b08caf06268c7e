"""The lean receive path: a worker's operation goes from its WebSocket to its handler at once.

python-engineio reads a WebSocket connection in a loop that, for every message, starts a task for
the read and wraps it in ``asyncio.wait_for``, decodes the Engine.IO packet and hands the message
to python-socketio in a task of its own; python-socketio decodes the Socket.IO packet and, for an
event, starts another task that runs the namespace's handler and sends the ack through a chain
of coroutines. Per operation that machinery cost more than the handler's own checks
(docs/benchmarks.md, "The live path").

``LeanReader`` is the WebSocket as python-engineio's reader sees it: its ``wait`` offers every
text message to a synchronous ``receive_now(sid, message)`` first (``GuardedServer.receive_now``,
crowdfill.server.wire_guard) and hands the library only what that did not take. What it takes
(the Socket.IO events of a namespace with a synchronous handler: the worker's operations) is
decoded once, checked and answered exactly as on the libraries' path, and handed to the
handler, which queues the operation with its owner and acknowledges it with a direct write when
the owner resolves it (crowdfill.server.sockets, ``WorkerNamespace.handle_now``). So a message
costs one wake of the reader's task and no task of its own.

What stays as it was:

- **Order:** a message taken is handled before the next one is read; what is not taken goes to
  the library in the order read, as before. Every event of such a namespace is taken, whatever
  its outcome (refusals included), so one connection's operations reach the owner in the order
  they were sent. (Other messages, e.g. a namespace CONNECT, are dispatched by the libraries in
  tasks of their own, as before, so their order against events was never more than that.)
- **Connections it applies to:** those that open on a WebSocket (the pages and the SDK do).
  A connection upgraded from long-polling keeps the library's reader: its first WebSocket
  messages are the upgrade's probe. Long-polling POSTs keep the library's path.
- **Limits:** a message over ``max_http_buffer_size`` goes to the library, which ends the
  connection as before. A run of messages that arrived together is handled in slices of
  ``_SLICE``, the loop getting a turn in between (the library yielded after each message).
- **Liveness:** the library's reader ends a connection that sent nothing for ``ping_interval +
  ping_timeout``; it now sees the client's pongs (every ``ping_interval``) but not the
  operations, which changes nothing for a client that answers pings, and the server's ping check
  still ends one that does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

# Messages taken in a row before the reader gives the event loop a turn.
_SLICE = 16


class LeanReader:
    """A connection's WebSocket (``wait``, ``send``, ``close``) whose ``wait`` returns only the
    messages ``receive_now`` does not take (module docstring)."""

    def __init__(self, ws: Any, sid: str, receive_now: Callable[[str, str], bool], max_message: int) -> None:
        self._ws = ws
        self._sid = sid
        self._receive_now = receive_now
        self._max_message = max_message
        self.taken = 0  # messages handled here (tests and diagnostics read it)

    async def wait(self) -> Any:
        in_a_row = 0
        while True:
            message = await self._ws.wait()
            if (
                type(message) is not str
                or len(message) > self._max_message
                or not self._receive_now(self._sid, message)
            ):
                return message
            self.taken += 1
            in_a_row += 1
            if in_a_row == _SLICE:
                in_a_row = 0
                await asyncio.sleep(0)

    async def send(self, message: str | bytes) -> None:
        await self._ws.send(message)

    async def close(self) -> None:
        await self._ws.close()


class DirectReceiver:
    """Takes the messages ``receive_now`` handles straight from uvicorn's sans-I/O protocol, in
    the callback that parsed them (``data_received``), without its queue and the reader's wake.

    Only when nothing is queued for the reader (so every earlier message was already handled, in
    order), for whole text messages, at most ``_SLICE`` per read; the others go to the queue and
    the reader (``LeanReader``) as before."""

    def __init__(
        self, protocol: Any, sid: str, receive_now: Callable[[str, str], bool], max_message: int
    ) -> None:
        self._protocol = protocol
        self._sid = sid
        self._receive_now = receive_now
        self._max_message = max_message
        self._budget = _SLICE
        self.taken = 0
        cls = type(protocol)
        self._handle_events = cls.handle_events.__get__(protocol)
        self._to_app = cls.send_receive_event_to_app.__get__(protocol)
        # Looked up on the instance by the protocol's own methods (uvloop caches only data_received).
        protocol.handle_events = self.handle_events
        protocol.send_receive_event_to_app = self.send_receive_event_to_app

    def remove(self) -> None:
        protocol = self._protocol
        del protocol.handle_events
        del protocol.send_receive_event_to_app

    def handle_events(self) -> None:
        self._budget = _SLICE
        self._handle_events()

    def send_receive_event_to_app(self) -> None:
        protocol = self._protocol
        frames = protocol.frames
        if (
            self._budget
            and len(frames) == 1
            and protocol.curr_msg_data_type == "text"
            and not protocol.close_sent
            and protocol.queue.empty()
        ):
            try:
                message = frames[0].decode()
            except UnicodeDecodeError:
                message = None  # the protocol's own path answers it (close 1007)
            if (
                message is not None
                and len(message) <= self._max_message
                and self._receive_now(self._sid, message)
            ):
                protocol.frames = []
                self._budget -= 1
                self.taken += 1
                return
        self._to_app()
