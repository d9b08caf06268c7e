"""A WebSocket client on a plain blocking socket that reads only when told, so a test decides
when what the server sends piles up (websockets' sans-I/O client does the framing)."""

from __future__ import annotations

import socket
import time

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri


class RawClient:
    """An Engine.IO connection over a WebSocket on a blocking socket, read only when told
    (``deflate``: offers permessage-deflate, as browsers do; ``small_buffer``: a 64 KB receive
    buffer, so what the server sends fills it soon). It waits for the Engine.IO OPEN packet."""

    def __init__(self, url: str, deflate: bool = False, small_buffer: bool = False) -> None:
        port = int(url.split(":")[2].split("/")[0])
        extensions = [ClientPerMessageDeflateFactory()] if deflate else None
        self.protocol = ClientProtocol(parse_uri(url), extensions=extensions, max_size=None)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if small_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.texts: list[str] = []
        self.controls: list[Frame] = []  # the server's ping, pong and close frames, in order
        self.closed = False
        self.after_close: list[Frame] = []
        [opened] = self.read_until(1)
        assert opened.startswith("0"), opened  # the Engine.IO OPEN packet

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def send(self, text: str) -> None:
        self.send_together([text])

    def send_together(self, texts: list[str], fragmented: frozenset[int] = frozenset()) -> None:
        """Each text as one frame (those at the ``fragmented`` positions as two), all in one write,
        so the server reads them together."""
        for position, text in enumerate(texts):
            data = text.encode()
            if position in fragmented:
                self.protocol.send_text(data[:10], fin=False)
                self.protocol.send_continuation(data[10:], fin=True)
            else:
                self.protocol.send_text(data)
        self._flush()

    def framed(self, texts: list[str]) -> bytes:
        """The bytes ``send_together`` would write for ``texts`` (each one masked frame), unsent."""
        for text in texts:
            self.protocol.send_text(text.encode())
        return b"".join(self.protocol.data_to_send())

    def send_bytes(self, chunks: list[bytes], pause: float = 0.02) -> None:
        """Write ``chunks`` one by one, ``pause`` seconds apart (so the server reads them apart)."""
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for chunk in chunks:
            self.sock.sendall(chunk)
            time.sleep(pause)

    def read_until(self, count: int) -> list[str]:
        """Read until ``count`` text messages arrived in all (Engine.IO pings are answered)."""
        while len(self.texts) < count:
            if not self._read():
                raise ConnectionError(f"closed after {len(self.texts)} messages")
        return self.texts

    def _read(self) -> bool:
        data = self.sock.recv(1 << 20)
        if not data:
            return False
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                text = bytes(event.data).decode()
                if text == "2":  # an Engine.IO ping: answer it, as a page does
                    self.send("3")
                else:
                    self.texts.append(text)
            elif isinstance(event, Frame):
                self.controls.append(event)
        self._flush()
        return True

    def messages(self) -> list[str]:
        """The Engine.IO messages (``4...``) read so far, without the leading 4."""
        return [text[1:] for text in self.texts if text.startswith("4")]

    def close(self) -> None:
        self.sock.close()
