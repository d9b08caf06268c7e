"""Forwarding a batch of published operations to a table's room: one frame per recipient.

An owner batch (everything queued when the owner took its turn) is published at once. Instead of
one ``op`` event per operation per recipient, each recipient gets ONE frame for the whole batch:
an ``op`` event when only one operation is for it, else an ``ops`` event
``{"ops": [{"seq", "op"}, ...]}`` in seq order (no ``from_seq``: that marks a replay after a
reconnect). So a burst costs one write per recipient, not one per operation.

A recipient never gets its own operations (it gets their acknowledgements instead). The frame is
encoded once for every recipient that sent nothing in the batch, and once for each sender in it
(without that sender's operations): the encoding work grows with the batch, never with the room.
Given a ``Writer`` (the server's ``LeanEngine.write_to_each``), each frame is written to all its
recipients in one synchronous call, and only those it could not take go through the ``Sender``.
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


class Writer(Protocol):
    """Writes one frame to many connections at once, synchronously, to each that can take it now
    with nothing of its own ahead of it; returns the others, in order (they get the ``Sender``)."""

    def __call__(self, eio_sids: Sequence[str], frame: eio_packet.Packet) -> Sequence[str]: ...


def batch_event(entries: Sequence[Forward]) -> tuple[str, Any] | None:
    """The one event that carries ``entries`` to a recipient (None when there is nothing to carry)."""
    if not entries:
        return None
    if len(entries) == 1:
        entry = entries[0]
        return "op", {"seq": entry.seq, "op": entry.op}
    return "ops", {"ops": [{"seq": entry.seq, "op": entry.op} for entry in entries]}


async def forward(
    recipients: Iterable[tuple[str, str]],
    entries: Sequence[Forward],
    encode: Encoder,
    send: Sender,
    write: Writer | None = None,
) -> int:
    """Send ``entries`` to every ``(sid, eio_sid)`` recipient as one event each; return the frames sent.

    With ``write``, each frame goes to all its recipients in one synchronous call first, and only
    those it could not write to are sent the frame through ``send``."""
    origins = {entry.origin for entry in entries if entry.origin is not None}
    room: list[str] = []  # the recipients that sent nothing in this batch (almost all of the room)
    senders: list[tuple[str, str]] = []
    for sid, eio_sid in recipients:
        if sid in origins:
            senders.append((sid, eio_sid))
        else:
            room.append(eio_sid)
    sent = await _to_each(room, entries, encode, send, write) if room else 0
    for sid, eio_sid in senders:
        mine = [entry for entry in entries if entry.origin != sid]
        sent += await _to_each([eio_sid], mine, encode, send, write)
    return sent


async def _to_each(
    eio_sids: list[str], entries: Sequence[Forward], encode: Encoder, send: Sender, write: Writer | None
) -> int:
    """``entries`` as one event, encoded once, to each of ``eio_sids``; returns the frames sent."""
    event = batch_event(entries)
    if event is None:
        return 0
    frames = encode(*event)
    rest: Sequence[str] = eio_sids
    if write is not None and len(frames) == 1:
        rest = write(eio_sids, frames[0])
    for eio_sid in rest:
        for frame in frames:
            await send(eio_sid, frame)
    return len(eio_sids) * len(frames)


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
