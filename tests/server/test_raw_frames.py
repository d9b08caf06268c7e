"""Whole WebSocket frames written straight to uvicorn's transport (crowdfill.server.raw_frames):
the bytes websockets would write, complete and in order whatever mix of raw and queued writes,
never past a full transport, readable by clients that negotiated permessage-deflate, and never
after the connection closed. Real sockets: ``LeanEngine`` under uvicorn's sans-I/O protocol on
uvloop (the production stack), clients on plain blocking sockets with websockets' sans-I/O
client (so a test decides when a client reads)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import engineio
import pytest
import uvicorn
import uvloop
from engineio import packet as eio_packet
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from crowdfill.server.raw_frames import FramedWebSocket, packet_frame, websocket_frame
from crowdfill.server.socket_writer import LeanEngine, LeanSocket
from tests.support.raw_websocket import RawClient

T = TypeVar("T")
BIG = 64 << 10


# ------------------------------------------------------------------------------------ the bytes
@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_a_frame_is_byte_for_byte_what_websockets_writes_for_every_length_encoding(
    length: int, opcode: Opcode
) -> None:
    accents = min(length // 4, 10)
    text = "a" * (length - 2 * accents) + "é" * accents  # ``length`` bytes of UTF-8, some multi-byte
    message: str | bytes = (
        text if opcode is Opcode.TEXT else (bytes(range(256)) * (length // 256 + 1))[:length]
    )
    payload = message.encode() if isinstance(message, str) else message
    assert len(payload) == length
    assert websocket_frame(message) == Frame(opcode, payload).serialize(mask=False)


def test_a_packet_is_framed_once_however_many_recipients_it_goes_to() -> None:
    pkt = eio_packet.Packet(eio_packet.MESSAGE, '2/worker,["op",{"seq":1}]')
    first = packet_frame(pkt)
    assert first == websocket_frame('42/worker,["op",{"seq":1}]')
    assert packet_frame(pkt) is first


# ------------------------------------------------------------------------------ a real server
@dataclass
class EngineServer:
    engine: LeanEngine
    loop: asyncio.AbstractEventLoop
    url: str
    received: list[tuple[str, Any]]

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coroutine`` on the server's loop (the only thread that touches its sockets)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def sockets(self) -> list[Any]:
        return list(self.engine.sockets.values())

    def wait_for_sockets(self, count: int) -> list[Any]:
        deadline = time.monotonic() + 15
        while len(self.sockets()) != count or not all(s._ws is not None for s in self.sockets()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.sockets())} connections, expected {count}")
            time.sleep(0.01)
        return self.sockets()


@contextlib.contextmanager
def engine_server(writer: str = "frame", ws: str = "websockets-sansio") -> Iterator[EngineServer]:
    engine = LeanEngine(async_mode="asgi", logger=False)
    engine.writer = writer
    received: list[tuple[str, Any]] = []

    async def on_message(sid: str, data: Any) -> None:
        received.append((sid, data))

    engine.on("message", on_message)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Small kernel buffers (accepted sockets inherit them): a client that does not read fills
    # the transport's own buffer quickly.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 << 10)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(engineio.ASGIApp(engine), log_level="warning", ws=ws)
    server = uvicorn.Server(config)
    loops: list[asyncio.AbstractEventLoop] = []
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # it ends what is left
                loops.append(runner.get_loop())
                runner.run(server.serve(sockets=[listener]))
        except BaseException as error:  # noqa: BLE001  # handed to the test thread, which raises it
            failure.append(error)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if failure or not thread.is_alive() or time.monotonic() > deadline:
            listener.close()
            raise RuntimeError(f"the engine server did not start: {failure[:1] or 'timeout'}")
        time.sleep(0.01)
    url = f"ws://127.0.0.1:{port}/engine.io/?EIO=4&transport=websocket"
    try:
        yield EngineServer(engine, loops[0], url, received)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


def send_to_all(server: EngineServer, messages: list[str]) -> None:
    """Each message as ONE packet sent to every connection, as delivery.forward sends a frame:
    written at once to each connection that can take it (``write_to_each``), sent the ordinary
    way to the others."""

    async def burst() -> None:
        for text in messages:
            pkt = eio_packet.Packet(eio_packet.MESSAGE, text)
            for sid in server.engine.write_to_each(list(server.engine.sockets), pkt):
                await server.engine.send_packet(sid, pkt)

    server.call(burst())


def sized(index: int) -> str:
    """Message ``index``: its number, then a filler that crosses the 7, 16 and 64-bit lengths."""
    return f"{index:05d}" + "y" * (10, 200, 70_000)[index % 3]


def numbers(messages: list[str]) -> list[int]:
    return [int(message[:5]) for message in messages]


def test_connections_on_uvicorns_sans_io_protocol_get_whole_frames_and_the_others_the_asgi_send() -> None:
    for writer, ws, framed in (
        ("frame", "websockets-sansio", True),
        ("direct", "websockets-sansio", False),
        ("frame", "wsproto", False),
    ):
        with engine_server(writer, ws) as server:
            client = RawClient(server.url)
            try:
                [connection] = server.wait_for_sockets(1)
                assert (type(connection._ws) is FramedWebSocket) == framed, (writer, ws)
                send_to_all(server, [sized(i) for i in range(3)])
                client.read_until(4)
                assert numbers(client.messages()) == [0, 1, 2], (writer, ws)
            finally:
                client.close()


def test_a_burst_to_several_clients_arrives_complete_and_in_order_as_whole_frames() -> None:
    count = 300
    with engine_server() as server:
        clients = [RawClient(server.url) for _ in range(4)]
        try:
            connections = server.wait_for_sockets(4)
            readers = [threading.Thread(target=c.read_until, args=(1 + count,), daemon=True) for c in clients]
            for reader in readers:
                reader.start()
            send_to_all(server, [sized(i) for i in range(count)])
            for reader in readers:
                reader.join(timeout=30)
            for client in clients:
                assert numbers(client.messages()) == list(range(count))
                assert all(m[5:] == sized(i)[5:] for i, m in enumerate(client.messages()))
            # Most of it went out raw (a transport that filled up sends the rest queued).
            assert all(c._ws.written >= count // 2 for c in connections), [c._ws.written for c in connections]
        finally:
            for client in clients:
                client.close()


def test_queued_writes_and_whole_frames_keep_one_order_on_a_connection() -> None:
    """Some packets go through the connection's queue (its writer sends them), the others at
    once: a frame written at once must never pass one still queued."""
    count = 600
    with engine_server() as server:
        client = RawClient(server.url)
        try:
            [connection] = server.wait_for_sockets(1)

            async def mixed() -> int:
                queued = 0
                for index in range(count):
                    pkt = eio_packet.Packet(eio_packet.MESSAGE, sized(index))
                    if index % 7 == 0:
                        await connection.queue.put(pkt)  # the writer's turn: the next ones must wait
                        queued += 1
                    else:
                        await server.engine.send_packet(connection.sid, pkt)
                    if index % 11 == 0:
                        await asyncio.sleep(0)  # let the writer run now and then
                return queued

            reader = threading.Thread(target=client.read_until, args=(1 + count,), daemon=True)
            reader.start()
            queued = server.call(mixed())
            reader.join(timeout=30)
            assert numbers(client.messages()) == list(range(count))
            assert queued > 0  # both ways were taken
            assert connection._ws.written > queued
        finally:
            client.close()


def test_a_client_that_stops_reading_holds_up_no_one_and_its_backlog_stays_out_of_the_transport() -> None:
    count = 200  # 13 MB: far more than the transport's high-water mark
    with engine_server() as server:
        stalled = RawClient(server.url, small_buffer=True)
        [slow] = server.wait_for_sockets(1)
        reading = RawClient(server.url)
        try:
            server.wait_for_sockets(2)
            reader = threading.Thread(target=reading.read_until, args=(1 + count,), daemon=True)
            reader.start()
            send_to_all(server, [f"{i:05d}" + "z" * BIG for i in range(count)])
            reader.join(timeout=30)
            # The reading client got everything while the other one read nothing.
            assert numbers(reading.messages()) == list(range(count))

            async def buffered() -> tuple[int, int]:
                transport = slow._ws.transport
                return transport.get_write_buffer_size(), transport.get_write_buffer_limits()[1]

            size, high = server.call(buffered())
            # Written at once only while under the high-water mark: the rest waits in the queue.
            assert 0 < slow._ws.written < count // 2, slow._ws.written
            assert size <= high + BIG + 16, (size, high)
            stalled.read_until(1 + count)
            assert numbers(stalled.messages()) == list(range(count))
        finally:
            stalled.close()
            reading.close()


def test_a_client_that_negotiated_permessage_deflate_reads_whole_frames_between_compressed_ones() -> None:
    count = 120
    with engine_server() as server:
        client = RawClient(server.url, deflate=True)
        try:
            [connection] = server.wait_for_sockets(1)
            assert [e.name for e in client.protocol.extensions] == ["permessage-deflate"]
            framed: FramedWebSocket = connection._ws

            async def alternate() -> None:
                for index in range(count):
                    text = f"4{index:05d}" + "w" * (10, 200, 3000)[index % 3]
                    if index % 2:
                        await framed.send(text)  # uncompressed (RSV1 = 0), straight to the transport
                    else:
                        await framed._ws.send(text)  # uvicorn's send: compressed by websockets

            reader = threading.Thread(target=client.read_until, args=(1 + count,), daemon=True)
            reader.start()
            before = framed.written
            server.call(alternate())
            reader.join(timeout=30)
            assert numbers(client.messages()) == list(range(count))
            assert [len(m) for m in client.messages()] == [5 + (10, 200, 3000)[i % 3] for i in range(count)]
            assert framed.written - before >= count // 4, framed.written - before
        finally:
            client.close()


# A client's close frame: FIN + close, masked (a zero mask), code 1000.
CLIENT_CLOSE = b"\x88\x82" + b"\x00\x00\x00\x00" + struct.pack("!H", 1000)


def _frames_until_eof(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Every frame the server sent on ``sock`` until it closed the TCP connection (opcode,
    payload); the client closes when the server closes or tells it to."""
    data = b""
    frames: list[tuple[int, bytes]] = []
    position = -1
    answered = False
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            # Our close reached a server that had already closed: its RST ends the stream. Only
            # after its close frame is that the end; before it, something was lost.
            if not (frames and frames[-1][0] == Opcode.CLOSE.value):
                raise
            break
        if not chunk:
            break
        data += chunk
        if position < 0:
            if b"\r\n\r\n" not in data:
                continue
            position = data.index(b"\r\n\r\n") + 4  # after the handshake's reply
        while len(data) - position >= 2:
            head, length, start = data[position], data[position + 1] & 0x7F, position + 2
            if length == 126:
                (length,) = struct.unpack("!H", data[start : start + 2])
                start += 2
            elif length == 127:
                (length,) = struct.unpack("!Q", data[start : start + 8])
                start += 8
            if len(data) < start + length:
                break
            frames.append((head & 0x0F, data[start : start + length]))
            position = start + length
            closing = head & 0x0F == Opcode.CLOSE.value or frames[-1] == (Opcode.TEXT.value, b"1")
            if closing and not answered:
                # A WebSocket close, or Engine.IO's CLOSE packet: close once, as a client does.
                answered = True
                with contextlib.suppress(OSError):  # the server may have closed already
                    sock.sendall(CLIENT_CLOSE)
    return frames


@pytest.mark.parametrize("who", ["client", "server"])
def test_nothing_is_written_after_the_connection_closes(who: str) -> None:
    """The client sends a close frame (or the server disconnects it) while packets keep coming:
    the sender never fails and the close frame is the last frame on the wire."""
    with engine_server() as server:
        sock = socket.create_connection(("127.0.0.1", int(server.url.split(":")[2].split("/")[0])))
        protocol = ClientProtocol(parse_uri(server.url))
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        [connection] = server.wait_for_sockets(1)
        sid = connection.sid

        async def keep_sending() -> int:
            sent = 0
            deadline = asyncio.get_running_loop().time() + 10
            while sid in server.engine.sockets and asyncio.get_running_loop().time() < deadline:
                await server.engine.send_packet(sid, eio_packet.Packet(eio_packet.MESSAGE, f"{sent:05d}"))
                sent += 1
                if sent == 50:
                    if who == "client":
                        sock.sendall(CLIENT_CLOSE)
                    else:
                        await server.engine.disconnect(sid)
                await asyncio.sleep(0.001)
            return sent

        try:
            sent = server.call(keep_sending())
            frames = _frames_until_eof(sock)
        finally:
            sock.close()
    assert sent >= 50
    opcodes = [opcode for opcode, _ in frames]
    assert opcodes[-1] == Opcode.CLOSE.value, opcodes[-5:]
    assert opcodes.count(Opcode.CLOSE.value) == 1
    texts = [payload.decode() for opcode, payload in frames if opcode == Opcode.TEXT.value]
    messages = [text[1:] for text in texts if text.startswith("4")]
    assert [int(m) for m in messages] == list(range(len(messages)))
    assert len(messages) >= 50
    if who == "server":
        assert texts[-1] == "1"  # Engine.IO's CLOSE packet, after every message
    assert type(connection) is LeanSocket
    assert connection._ws is None  # its handler ended
