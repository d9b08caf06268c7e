"""Forwarding a batch of published operations to a table's room: one frame per recipient.

An owner batch (everything queued when the owner took its turn) is published at once. Instead of
one ``op`` event per operation per recipient, each recipient gets ONE frame for the whole batch:
an ``op`` event when only one operation is for it, else an ``ops`` event
``{"ops": [{"seq", "op"}, ...]}`` in seq order (no ``from_seq``: that marks a replay after a
reconnect). So a burst costs one write per recipient, not one per operation.

A recipient never gets its own operations (it gets their acknowledgements instead). The frame is
encoded once for every recipient that sent nothing in the batch, and once for each sender in it
(without that sender's operations): the encoding work grows with the batch, never with the room.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from engineio import packet as eio_packet
from socketio import packet as sio_packet

Frames = list[eio_packet.Packet]


class Forward(Protocol):
    """What a forward needs of a published operation (``owner.Published`` has it)."""

    @property
    def seq(self) -> int: ...

    @property
    def op(self) -> dict[str, Any]: ...

    @property
    def origin(self) -> str | None: ...


class Encoder(Protocol):
    """Turns one Socket.IO event into the Engine.IO frames that carry it (encoded once, sent to many)."""

    def __call__(self, event: str, data: Any) -> Frames: ...


class Sender(Protocol):
    async def __call__(self, eio_sid: str, frame: eio_packet.Packet) -> None: ...


def batch_event(entries: Sequence[Forward]) -> tuple[str, Any] | None:
    """The one event that carries ``entries`` to a recipient (None when there is nothing to carry)."""
    if not entries:
        return None
    if len(entries) == 1:
        entry = entries[0]
        return "op", {"seq": entry.seq, "op": entry.op}
    return "ops", {"ops": [{"seq": entry.seq, "op": entry.op} for entry in entries]}


async def forward(
    recipients: Iterable[tuple[str, str]], entries: Sequence[Forward], encode: Encoder, send: Sender
) -> int:
    """Send ``entries`` to every ``(sid, eio_sid)`` recipient as one event each; return the frames sent."""
    origins = {entry.origin for entry in entries if entry.origin is not None}
    # Key None: the recipients that sent nothing in this batch (almost all of the room).
    encoded: dict[str | None, Frames] = {}
    sent = 0
    for sid, eio_sid in recipients:
        key = sid if sid in origins else None
        frames = encoded.get(key)
        if frames is None:
            mine = entries if key is None else [entry for entry in entries if entry.origin != key]
            event = batch_event(mine)
            frames = encoded[key] = [] if event is None else encode(*event)
        for frame in frames:
            await send(eio_sid, frame)
            sent += 1
    return sent


def socketio_encoder(packet_class: Any, namespace: str) -> Encoder:
    """An ``Encoder`` for ``namespace`` with the server's packet class (its JSON settings)."""

    def encode(event: str, data: Any) -> Frames:
        # binary=False: forwards are JSON (operations from the wire), so the packet need not walk
        # the whole batch looking for bytes. Each frame is framed for the WebSocket once, at its
        # first write, and those bytes go to every recipient (crowdfill.server.raw_frames).
        packet = packet_class(sio_packet.EVENT, namespace=namespace, data=[event, data], binary=False)
        encoded = packet.encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        return [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]

    return encode
