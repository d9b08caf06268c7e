"""A cheaper write to each WebSocket-connected client than python-engineio's own writer.

python-engineio gives every connection a send queue and, once the connection runs on a
WebSocket, a writer task that drains it. Each wake of that writer goes through
``AsyncSocket.poll``, which wraps the queue read in ``asyncio.wait_for``: on Python 3.11 a new
task and a timer per recipient per frame, most of the per-recipient cost of a forward
(docs/benchmarks.md, "The live path"). ``LeanSocket`` keeps the library's queue, writer,
upgrade, ping and close logic and changes these for connections on a WebSocket:

- **writer without a timeout** (``"loop"``, ``"direct"`` and ``"frame"``): the writer waits on its queue
  with a plain ``get()``. The timeout it drops was redundant there: the WebSocket's reader
  already ends the connection when the client sends nothing (not even a pong) for
  ``ping_interval + ping_timeout``, and then wakes the writer to stop (the library's reader
  queues ``None`` for that), and the server's ping check closes a client that stops answering.
  Long-polling connections keep the library's ``poll`` unchanged (its timeout ends a GET).
- **direct write** (``"direct"`` and ``"frame"``): when the writer is idle, waiting on an empty
  queue, a packet is handed to the WebSocket at once instead of through the queue and a task wake. Order is
  kept: an idle writer with an empty queue has handed every earlier packet to the WebSocket
  already. A write never holds up the caller (a forward loops over the whole room): when the
  WebSocket cannot take it right away (a slow reader filled the transport's buffer), it
  finishes in a task of its own, later packets go through the queue, and the writer waits for
  that write before sending them.
- **whole frames** (``"frame"``, the default): on uvicorn's sans-I/O WebSocket protocol, the
  connection's WebSocket is wrapped by ``raw_frames.FramedWebSocket``, so the direct write and
  the writer's own writes put the packet's whole WebSocket frame (built once per packet, the
  same bytes for a whole room) straight on the transport while it is under its high-water mark,
  instead of the ASGI send, uvicorn's protocol and websockets' framing per recipient. The direct
  write is synchronous on that path (``write_now``, also called from ``LeanEngine.send_packet``,
  and ``LeanEngine.write_to_each``, which writes one frame to a whole room in one call),
  so a forward costs no coroutine per recipient there. Other WebSocket implementations keep the
  direct write.

python-engineio constructs ``AsyncSocket`` itself in ``AsyncServer._handle_connect`` with no
factory to override, so ``LeanEngine`` (its ``AsyncServer``, chosen through python-socketio's
``_engineio_server_class``) gives a new socket this class when the ``connect`` event fires: the
first moment our code sees it, before any transport work starts. ``LeanSocket`` adds no state of
its own to ``__init__`` (its attributes default at class level), so that is safe. These rely on
python-engineio's internals (``poll``, ``send``, ``_websocket_handler``, ``queue``, ``upgraded``):
the versions are pinned in pyproject.toml and tests/server/test_socket_writer.py fails when
they change behaviour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import engineio
from engineio import async_socket, exceptions
from engineio import packet as eio_packet

from crowdfill.server import raw_frames, socket_reader

logger = logging.getLogger(__name__)


class LeanSocket(async_socket.AsyncSocket):  # type: ignore[misc]  # engineio is untyped
    """``AsyncSocket`` with a writer without timeouts and, if ``direct``, direct WebSocket writes
    (whole frames to uvicorn's transport too, if ``frames``)."""

    direct = True
    frames = True  # write whole frames to uvicorn's transport where it is reachable (raw_frames)
    _ws: Any = None  # engineio's WebSocket wrapper while this connection runs on one
    _writer_idle = False  # the writer is waiting on an empty queue
    _pending: asyncio.Future[None] | None = None  # a direct write that had to wait
    # The lean receive path of this connection, if it has one (crowdfill.server.socket_reader).
    reader: socket_reader.LeanReader | None = None
    direct_receiver: socket_reader.DirectReceiver | None = None

    async def _websocket_handler(self, ws: Any) -> None:
        if self.frames:
            # Every write of this connection (the writer's, the direct ones) goes through it.
            ws = raw_frames.framed(ws) or ws
        self._ws = ws
        reader = ws
        direct = None
        receive_now = self.server.receive_now
        if receive_now is not None and not self.connected:
            # Opened on a WebSocket (not an upgrade, whose first messages are its probe): messages
            # are offered to the Socket.IO server's synchronous handler first (socket_reader).
            limit = self.server.max_http_buffer_size
            reader = self.reader = socket_reader.LeanReader(ws, self.sid, receive_now, limit)
            if type(ws) is raw_frames.FramedWebSocket:
                # On uvicorn's sans-I/O protocol: taken as soon as they are parsed, when nothing is queued.
                direct = socket_reader.DirectReceiver(ws.protocol, self.sid, receive_now, limit)
                self.direct_receiver = direct
        try:
            await super()._websocket_handler(reader)
        finally:
            self._ws = None
            if direct is not None:
                direct.remove()

    async def poll(self) -> list[eio_packet.Packet]:
        if not self.upgraded or self._ws is None:
            return await super().poll()  # type: ignore[no-any-return]  # long-polling: unchanged
        self._writer_idle = True
        try:
            first = await self.queue.get()
        except asyncio.CancelledError:
            # As the library's poll: a cancelled writer stops (and closes the WebSocket).
            raise exceptions.QueueEmpty() from None
        finally:
            self._writer_idle = False
        self.queue.task_done()
        if first is None:
            await self._finish_pending()  # the writer closes the WebSocket next: let it finish
            return []
        packets = [first]
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)  # the writer stops after sending these
                break
            packets.append(pkt)
        await self._finish_pending()  # a direct write that waited goes out first
        return packets

    async def _finish_pending(self) -> None:
        pending = self._pending
        if pending is None:
            return
        try:
            await asyncio.wait((pending,))
        except asyncio.CancelledError:
            # As the library's poll: a cancelled writer stops (and closes the WebSocket).
            raise exceptions.QueueEmpty() from None

    def write_now(self, pkt: eio_packet.Packet) -> bool:
        """Write ``pkt`` as a whole frame to uvicorn's transport if nothing of this connection is
        ahead of it and the transport can take it (True); else False and nothing was done.

        Synchronous, so a forward to a room costs no coroutine per recipient on this path."""
        return self.write_frame(pkt, time.time())

    def write_frame(self, pkt: eio_packet.Packet, now: float, frame: bytes | None = None) -> bool:
        """``write_now`` with the time (``time.time()``) and, optionally, ``pkt``'s frame
        (``raw_frames.packet_frame``) given: what a write to a whole room looks up once."""
        ws = self._ws
        if not (
            self._writer_idle
            and self._pending is None
            and self.direct
            and type(ws) is raw_frames.FramedWebSocket
            and not self.closing
            and not self.closed
            and self.queue.empty()
        ):
            return False
        last_ping = self.last_ping
        if last_ping and now - last_ping > self.server.ping_timeout:
            return False  # the client is gone: ``send`` closes the connection, as the library does
        # One call for the connection's checks: this runs once per recipient of every forward.
        transport = ws.open_transport()
        if transport is None:
            return False
        transport.write(raw_frames.packet_frame(pkt) if frame is None else frame)
        ws.written += 1
        return True

    async def send(self, pkt: eio_packet.Packet) -> None:
        if self.write_now(pkt):
            return  # the frame went to the transport whole (raw_frames)
        ws = self._ws
        if not (self.direct and self._writer_idle and self._pending is None and ws is not None):
            await super().send(pkt)
            return
        if self.closing or not self.queue.empty():
            # Packets the writer has not taken yet go first; closing: the CLOSE packet and what
            # follows go through the queue, as the library sends them.
            await super().send(pkt)
            return
        if not await self.check_ping_timeout():
            return
        write = run_until_suspended(self._write(ws, pkt.encode()))
        if write is not None:
            self._pending = write
            write.add_done_callback(self._written)

    def _written(self, write: asyncio.Future[None]) -> None:
        if self._pending is write:
            self._pending = None

    async def _write(self, ws: Any, frame: str | bytes) -> None:
        try:
            await ws.send(frame)
        except Exception as error:  # noqa: BLE001  # what the library's writer stops on: any send failure
            # The connection is gone (or closing): stop writing directly, as the library's writer
            # stops writing; its reader sees the WebSocket close and ends the connection.
            logger.debug("%s: WebSocket write failed, direct writes stop: %r", self.sid, error)
            self.direct = False


class LeanEngine(engineio.AsyncServer):  # type: ignore[misc]  # engineio is untyped
    """Engine.IO server whose connections get ``LeanSocket``'s writer (``writer`` chooses which)."""

    writer = "frame"  # one of settings.SOCKET_WRITERS
    # The Socket.IO server's synchronous handler of Engine.IO messages (``GuardedServer.receive_now``):
    # True when it took the message. None: every message takes the library's path.
    receive_now: Callable[[str, str], bool] | None = None

    def send_now(self, sid: str, pkt: eio_packet.Packet) -> None:
        """``send_packet`` from synchronous code, in order with the connection's other writes:
        written at once if ``LeanSocket.write_now`` can, else queued before this returns (a send
        that has to wait for the transport finishes in a task, as in ``LeanSocket.send``)."""
        socket = self.sockets.get(sid)
        if type(socket) is LeanSocket and socket.write_now(pkt):
            return
        run_until_suspended(super().send_packet(sid, pkt))

    def write_to_each(self, sids: Sequence[str], pkt: eio_packet.Packet) -> list[str]:
        """Write ``pkt`` at once to each connection of ``sids`` that ``LeanSocket.write_now`` would
        write it to; return the others, in order, for ``send_packet`` (``delivery.Writer``).

        One call for a whole room: the time and the packet's frame are looked up once, and no
        coroutine is made per recipient."""
        if self.writer != "frame":
            return list(sids)  # no whole frames to write (``LeanSocket.write_now`` writes none)
        sockets = self.sockets
        now = time.time()
        frame = raw_frames.packet_frame(pkt)
        rest: list[str] = []
        for sid in sids:
            socket = sockets.get(sid)
            if type(socket) is not LeanSocket or not socket.write_frame(pkt, now, frame):
                rest.append(sid)
        return rest

    async def send_packet(self, sid: str, pkt: eio_packet.Packet) -> None:
        socket = self.sockets.get(sid)
        if type(socket) is LeanSocket and socket.write_now(pkt):
            return  # written whole, at once (the library's path would do the same, in more steps)
        await super().send_packet(sid, pkt)

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect" and self.writer != "engineio":
            socket = self.sockets.get(args[0])
            if type(socket) is async_socket.AsyncSocket:
                socket.__class__ = LeanSocket
                socket.direct = self.writer in ("frame", "direct")
                socket.frames = self.writer == "frame"
        return await super()._trigger_event(event, *args, **kwargs)


def run_until_suspended(coroutine: Coroutine[Any, Any, None]) -> asyncio.Future[None] | None:
    """Run ``coroutine`` now, up to its first suspension: None when it finished without one,
    else a task that finishes it (Python 3.12's eager tasks do this; the project supports 3.11).
    The task is referenced until it is done (the loop holds tasks only weakly)."""
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    except BaseException:
        coroutine.close()
        raise
    task = asyncio.ensure_future(_resume(coroutine, waiting))
    _resuming.add(task)
    task.add_done_callback(_resuming.discard)
    return task


_resuming: set[asyncio.Future[None]] = set()  # run_until_suspended's tasks until they are done


async def _resume(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine that suspended on ``waiting`` (an asyncio future, or None for a bare yield)."""
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False  # what a Task does with a future it waits on
                await asyncio.wait((waiting,))
            try:
                waiting = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()
