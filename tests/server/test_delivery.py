"""``delivery.forward``: one frame per recipient, encodings that grow with the batch, not the room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engineio import packet as eio_packet

from crowdfill.server import delivery


@dataclass(frozen=True)
class Entry:
    seq: int
    op: dict[str, Any]
    origin: str | None


class Recorder:
    """A fake encoder and sender: what was encoded, and what each connection was sent."""

    def __init__(self) -> None:
        self.encoded: list[tuple[str, Any]] = []
        self.sent: dict[str, list[tuple[str, Any]]] = {}

    def encode(self, event: str, data: Any) -> list[eio_packet.Packet]:
        self.encoded.append((event, data))
        return [eio_packet.Packet(eio_packet.MESSAGE, {"event": event, "data": data})]

    async def send(self, eio_sid: str, frame: eio_packet.Packet) -> None:
        self.sent.setdefault(eio_sid, []).append((frame.data["event"], frame.data["data"]))


def room(size: int) -> list[tuple[str, str]]:
    return [(f"s{i}", f"e{i}") for i in range(size)]


async def test_every_recipient_gets_one_frame_however_many_operations_the_batch_holds() -> None:
    recorder = Recorder()
    entries = [Entry(seq, {"n": seq}, None) for seq in (7, 8, 9)]
    frames = await delivery.forward(room(50), entries, recorder.encode, recorder.send)
    assert frames == 50
    assert all(len(sent) == 1 for sent in recorder.sent.values())
    assert recorder.sent["e0"] == [("ops", {"ops": [{"seq": s, "op": {"n": s}} for s in (7, 8, 9)]})]


async def test_the_frame_is_encoded_once_for_the_room_and_once_per_sender_in_the_batch() -> None:
    recorder = Recorder()
    entries = [Entry(1, {"n": 1}, "s3"), Entry(2, {"n": 2}, "s5"), Entry(3, {"n": 3}, "s3")]
    await delivery.forward(room(200), entries, recorder.encode, recorder.send)
    assert len(recorder.encoded) == 3  # everyone else, s3, s5
    assert recorder.sent["e3"] == [("op", {"seq": 2, "op": {"n": 2}})]
    assert recorder.sent["e5"] == [("ops", {"ops": [{"seq": 1, "op": {"n": 1}}, {"seq": 3, "op": {"n": 3}}]})]
    assert [entry["seq"] for entry in recorder.sent["e0"][0][1]["ops"]] == [1, 2, 3]


async def test_a_sender_whose_operations_are_the_whole_batch_is_sent_nothing() -> None:
    recorder = Recorder()
    entries = [Entry(4, {"n": 4}, "s0")]
    frames = await delivery.forward(room(3), entries, recorder.encode, recorder.send)
    assert frames == 2
    assert "e0" not in recorder.sent
    assert recorder.sent["e1"] == [("op", {"seq": 4, "op": {"n": 4}})]


def test_no_operation_makes_no_event() -> None:
    assert delivery.batch_event([]) is None


async def test_a_writer_takes_the_frame_where_it_can_and_the_others_are_sent_it_in_order() -> None:
    recorder = Recorder()
    written: list[tuple[list[str], Any]] = []

    def write(eio_sids: Sequence[str], frame: eio_packet.Packet) -> list[str]:
        written.append((list(eio_sids), frame.data["data"]))
        return [eio_sid for eio_sid in eio_sids if int(eio_sid[1:]) % 2]  # the odd ones cannot take it

    entries = [Entry(1, {"n": 1}, "s2"), Entry(2, {"n": 2}, None)]
    frames = await delivery.forward(room(6), entries, recorder.encode, recorder.send, write)
    assert frames == 6
    assert written == [
        (["e0", "e1", "e3", "e4", "e5"], {"ops": [{"seq": 1, "op": {"n": 1}}, {"seq": 2, "op": {"n": 2}}]}),
        (["e2"], {"seq": 2, "op": {"n": 2}}),
    ]
    assert list(recorder.sent) == ["e1", "e3", "e5"]
    assert all(len(sent) == 1 and sent[0][0] == "ops" for sent in recorder.sent.values())
