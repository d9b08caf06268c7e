"""The lean receive path (crowdfill.server.socket_reader): a worker's operations go from the
WebSocket to the handler without the libraries' tasks, and the client cannot tell: every message
is answered with the very frame the libraries' path sends (refusals included), one connection's
operations are sequenced and acknowledged in the order sent, also when they arrive together
with messages that take the libraries' path, and the edge's limits still end a connection that
ignores them. Real sockets: the app under uvicorn, on its sans-I/O protocol (what ``crowdfill
serve`` runs, where operations are taken as soon as they are parsed) and on wsproto; clients on
blocking sockets that send raw Socket.IO frames (tests.support.raw_websocket)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Protocol

import httpx
import pytest

from crowdfill.server.socket_writer import LeanSocket
from tests.support.live_server import LiveServer, live_server, test_settings
from tests.support.raw_websocket import RawClient

STACKS = ("websockets-sansio", "wsproto")
ROWS = 30
GRID: dict[str, Any] = {
    "name": "grid",
    "schema": {"columns": [{"name": "a"}, {"name": "b"}]},
    "template": [{} for _ in range(ROWS)],
    "budget_cents": 10_000,
    "rate_limit": {"ops_per_second": 1000, "burst": 1000},
}
ACK = re.compile(r"3/(?:worker|monitor),(\d+)\[(.*)\]", re.DOTALL)
# Events the server pushes on its own (the pulse's estimates, the central client's inserts).
UNPROMPTED = tuple(f'2/worker,["{name}",' for name in ("estimate", "standing", "op", "ops"))


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    chosen: str = request.param
    return chosen


def serving(stack: str, lean: bool, **settings: Any) -> Any:
    return live_server(test_settings(lean_receive=lean, **settings), ws=stack)


class Reachable(Protocol):
    """A server in this process (``LiveServer``) or in its own (``ServerProcess``)."""

    @property
    def base_url(self) -> str: ...

    @property
    def headers(self) -> dict[str, str]: ...


def launched(server: Reachable, definition: dict[str, Any]) -> str:
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10) as http:
        created = http.post("/api/tables", json=definition)
        assert created.status_code == 201, created.text
        table_id: str = created.json()["id"]
        assert http.post(f"/api/tables/{table_id}/launch").status_code == 200
    return table_id


def link(server: Reachable, table_id: str, worker: str) -> str:
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10) as http:
        response = http.post(f"/api/tables/{table_id}/links", json={"worker_id": worker})
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token


class RawWorker:
    """A worker page reduced to its frames: Engine.IO over a WebSocket, ``/worker`` joined."""

    def __init__(self, server: Reachable, token: str) -> None:
        url = server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.client = RawClient(url)
        self._read = 1  # the Engine.IO OPEN packet
        try:
            self.client.send("40/worker," + json.dumps({"token": token}))
            self.snapshot = self.event("snapshot")
        except BaseException:
            self.client.close()
            raise
        self.rows = [row["row_id"] for row in self.snapshot["rows"]]

    def __enter__(self) -> RawWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def message(self, unprompted: bool = False) -> str:
        """The next Engine.IO message without its leading 4 (``unprompted``: the server's own events too)."""
        while True:
            self.client.read_until(self._read + 1)
            text = self.client.texts[self._read]
            self._read += 1
            assert text.startswith("4"), text
            if unprompted or not text[1:].startswith(UNPROMPTED):
                return text[1:]

    def event(self, name: str) -> Any:
        prefix = f'2/worker,["{name}",'
        while True:
            text = self.message(unprompted=True)
            if text.startswith(prefix):
                return json.loads(text[len("2/worker,") :])[1]

    def answers(self, ack_ids: set[int]) -> dict[int, Any]:
        """Read until each of ``ack_ids`` is acknowledged: ack id -> the ack's one argument."""
        got: dict[int, Any] = {}
        while not ack_ids <= got.keys():
            match = ACK.fullmatch(self.message())
            assert match is not None, self.client.texts[-1]
            got[int(match[1])] = json.loads(match[2])
        return got


def lean_sockets(server: LiveServer) -> list[LeanSocket]:
    sockets = list(server.app.sockets.sio.eio.sockets.values())
    assert all(type(s) is LeanSocket for s in sockets), sockets
    return sockets


def taken(server: LiveServer) -> tuple[int, int]:
    """Messages the lean path took: as parsed (on the sans-I/O protocol), and from the reader."""
    sockets = lean_sockets(server)
    direct = sum(s.direct_receiver.taken for s in sockets if s.direct_receiver is not None)
    read = sum(s.reader.taken for s in sockets if s.reader is not None)
    return direct, read


def script(first: str, second: str) -> list[tuple[str, bool]]:
    """Raw frames a client may send (and whether each is answered), good and bad."""

    def fill(ack: str, payload: dict[str, Any], *more: Any) -> str:
        return f"42/worker,{ack}" + json.dumps(["fill", payload, *more])

    good = {"row_id": first, "column": "a", "value": "x", "new_row_id": "n1", "seen_seq": 0}
    return [
        (fill("1", good), True),
        ('42/worker,2["fill",{"row_id": ', True),  # not JSON
        ('42/worker,3["erase",{}]', True),  # no such event
        ('42/worker,4["connect",{}]', True),  # reserved
        ('42/worker,5["fill","x"]', True),  # not an object
        ('42/worker,6["upvote",{"row_id":"ghost"}]', True),  # refused by the table
        ("42/worker,7[]", True),
        ('42/worker,8"fill"', True),
        ('42/worker,9["fill",{"row_id":"n1","column":"b","value":1e999,"seen_seq":0}]', True),
        ("42/worker," + "9" * 16 + '["fill",{}]', True),  # an ack id too long to answer: an error event
        (
            fill("", {**good, "row_id": second, "new_row_id": "n2"}),
            False,
        ),  # no ack asked: applied, unanswered
        (
            fill(
                "10",
                {
                    "row_id": "n1",
                    "column": "b",
                    "value": "y",
                    "new_row_id": "n3",
                    "seen_seq": 0,
                    "worker": "mallory",
                },
            ),
            True,
        ),
        (fill("11", {**good, "value": "x" * 20_000}), True),
        (fill("12", good, "extra"), True),
        (fill("13", {**good, "new_row_id": "n1"}), True),  # replaced already: refused by the table
    ]


def run_script(stack: str, lean: bool) -> tuple[list[str], tuple[int, int], list[str]]:
    """The answers to ``script``, one message at a time (row ids replaced by their names), the
    lean path's counts, and the rows in the table afterwards."""
    with serving(stack, lean) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            first, second = ann.rows[:2]
            answers = []
            for frame, answered in script(first, second):
                ann.client.send(frame)
                if answered:
                    answers.append(ann.message().replace(first, "FIRST").replace(second, "SECOND"))
            counts = taken(server)
        with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10) as http:
            rows = [row["row_id"] for row in http.get(f"/api/tables/{table_id}/candidates").json()["rows"]]
    return answers, counts, rows


def test_every_message_gets_the_frame_the_libraries_path_answers_it_with(stack: str) -> None:
    lean, lean_taken, lean_rows = run_script(stack, lean=True)
    library, library_taken, library_rows = run_script(stack, lean=False)
    assert lean == library
    frames = sum(frame.startswith("42/worker,") for frame, _ in script("r", "s"))
    # Every event took the lean path (as parsed, on the sans-I/O protocol); none did without it.
    assert sum(lean_taken) == frames, lean_taken
    assert lean_taken[0] == (frames if stack == "websockets-sansio" else 0), lean_taken
    assert library_taken == (0, 0)
    acks = {int(m[1]): json.loads(m[2]) for m in map(ACK.fullmatch, lean) if m is not None}
    codes = {ack_id: ack["error"]["code"] for ack_id, ack in acks.items() if not ack["ok"]}
    assert codes == {
        2: "bad_json",
        3: "unknown_event",
        4: "unknown_event",
        5: "malformed",
        6: "unknown_row",
        7: "malformed",
        8: "malformed",
        9: "malformed",
        11: "payload_too_large",
        12: "malformed",
        13: "row_replaced",
    }
    assert all(acks[ack_id]["error"]["message"] for ack_id in codes)
    assert acks[1]["op"]["new_row_id"] == "n1"
    # A worker acts only as the worker its signed session names.
    assert acks[10]["op"]["worker"] == "ann", acks[10]
    # The event sent without an ack id was applied (n2) between acks 1 and 10.
    assert acks[10]["seq"] == acks[1]["seq"] + 2
    assert "n2" in lean_rows
    assert "n2" in library_rows
    [error] = [text for text in lean if text.startswith('2/worker,["error",')]
    assert "ack id" in error


def test_a_burst_from_one_connection_is_sequenced_and_acknowledged_in_the_order_sent(stack: str) -> None:
    with serving(stack, lean=True) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            frames, library_ids, ack_id = [], set(), 0
            # Each row's column a, then each new row's column b: a b fill that overtook its row's a
            # fill would be refused (unknown_row). The first fill comes in two fragments (the
            # reader's path) and the b fill of its row right behind it; messages for the
            # libraries' path in between (a namespace this connection never joined).
            cells = [(row, "a", f"a{i}") for i, row in enumerate(ann.rows[:ROWS])]
            cells += [(f"a{i}", "b", f"b{i}") for i in range(ROWS)]
            cells.insert(1, cells.pop(ROWS))
            for step, (row, column, new) in enumerate(cells):
                if step % 20 == 0:
                    ack_id += 1
                    library_ids.add(ack_id)
                    frames.append(f'42/monitor,{ack_id}["hello",{{}}]')
                ack_id += 1
                payload = {"row_id": row, "column": column, "value": new, "new_row_id": new, "seen_seq": 0}
                frames.append(f"42/worker,{ack_id}" + json.dumps(["fill", payload]))
            ann.client.send_together(frames, fragmented=frozenset({1}))
            answers = ann.answers(set(range(1, ack_id + 1)))
            fills = [answers[i] for i in sorted(answers) if i not in library_ids]
            assert all(fill["ok"] for fill in fills), [fill for fill in fills if not fill["ok"]][:3]
            seqs = [fill["seq"] for fill in fills]
            assert seqs == sorted(set(seqs))
            assert [answers[i]["error"]["code"] for i in sorted(library_ids)] == ["not_connected"] * 3
            direct, read = taken(server)
            assert direct + read == 2 * ROWS
            if stack == "wsproto":
                assert direct == 0


@pytest.mark.parametrize("lean", [True, False])
def test_a_connection_that_goes_on_sending_while_rate_limited_is_told_answered_and_dropped(
    stack: str, lean: bool
) -> None:
    with serving(stack, lean, rate_limit_refusals=3) as server:
        table_id = launched(server, {**GRID, "rate_limit": {"ops_per_second": 0.01, "burst": 2}})
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            frames = [
                f"42/worker,{i}"
                + json.dumps(["fill", {"row_id": row, "column": "a", "value": "v", "seen_seq": 0}])
                for i, row in enumerate(ann.rows[:5], start=1)
            ]
            ann.client.sock.settimeout(5)  # a connection left open fails the test, not hangs it
            ann.client.send_together(frames)
            seen: list[str] = []
            while not seen or not seen[-1].startswith("1/worker"):  # until the namespace's DISCONNECT
                seen.append(ann.message())
            acks = {int(m[1]): json.loads(m[2]) for m in map(ACK.fullmatch, seen) if m is not None}
            assert [acks[i]["ok"] for i in range(1, 6)] == [True, True, False, False, False], acks
            assert {acks[i]["error"]["code"] for i in (3, 4, 5)} == {"rate_limited"}
            [kicked] = [i for i, text in enumerate(seen) if text.startswith('2/worker,["kicked",')]
            assert json.loads(seen[kicked][len("2/worker,") :])[1]["code"] == "too_fast"
            # Told first, then answered, then disconnected.
            assert kicked < seen.index(next(t for t in seen if t.startswith("3/worker,5["))) < len(seen) - 1


def test_an_operation_another_process_sequences_is_sent_on_from_a_task(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a follower ``submit_now`` has no loop to queue on and ``submit`` forwards the operation
    # over the bus, whose client (redis-py) enters ``asyncio.timeout`` before its first suspension:
    # that needs a current task, which a protocol callback has not.
    from crowdfill.server.owner import TableOwner

    queue_now = TableOwner.submit_now

    def no_loop_here(self: TableOwner, *args: Any, **kwargs: Any) -> None:
        return None

    async def forwarded(
        self: TableOwner, op: Any, origin: str | None = None, seen_seq: int | None = None
    ) -> Any:
        async with asyncio.timeout(5):  # raises at once outside a task
            pass
        future = queue_now(self, op, origin, seen_seq)
        assert future is not None
        return await future

    monkeypatch.setattr(TableOwner, "submit_now", no_loop_here)
    monkeypatch.setattr(TableOwner, "submit", forwarded)
    with serving(stack, True) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            fills = [
                "42/worker,"
                + str(n)
                + json.dumps(
                    [
                        "fill",
                        {
                            "row_id": row,
                            "column": "a",
                            "value": f"v{n}",
                            "new_row_id": f"n{n}",
                            "seen_seq": 0,
                        },
                    ]
                )
                for n, row in enumerate(ann.rows[:5], start=1)
            ]
            ann.client.send_together(fills)
            got = ann.answers(set(range(1, 6)))
    assert [got[n]["ok"] for n in range(1, 6)] == [True] * 5, got
    assert [got[n]["seq"] for n in range(1, 6)] == sorted(got[n]["seq"] for n in range(1, 6))


def chained_fills(rows: list[str], count: int) -> list[str]:
    """``count`` fills (acks 1 to ``count``): a row's column a, then column b of the row that made,
    and so on; the b fill overtaking its a fill would be refused (unknown_row)."""
    texts = []
    for n in range(count):
        i = n // 2
        row, column, new = (rows[i], "a", f"a{i}") if n % 2 == 0 else (f"a{i}", "b", f"b{i}")
        payload = {"row_id": row, "column": column, "value": new, "new_row_id": new, "seen_seq": 0}
        texts.append(f"42/worker,{n + 1}" + json.dumps(["fill", payload]))
    return texts


def test_operations_split_anywhere_across_reads_are_taken_in_order() -> None:
    with serving("websockets-sansio", lean=True) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            texts = chained_fills(ann.rows, 10)
            data = ann.client.framed(texts)
            starts = [0]
            for text in texts:
                starts.append(starts[-1] + 2 + 4 + len(text.encode()))  # header, mask, payload
            # Cut inside a header, right after one (the parser then waits inside a frame with
            # nothing buffered), after a mask, inside a payload, and on a frame boundary.
            cuts = [starts[1] + 1, starts[3] + 2, starts[5] + 6, starts[6] + 20, starts[8]]
            ann.client.send_bytes([data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)])
            answers = ann.answers(set(range(1, 11)))
            assert [answers[n]["ok"] for n in range(1, 11)] == [True] * 10, answers
            seqs = [answers[n]["seq"] for n in range(1, 11)]
            assert seqs == sorted(set(seqs))
            assert sum(taken(server)) == 10


def test_control_frames_and_library_messages_between_operations_keep_their_place() -> None:
    with serving("websockets-sansio", lean=True) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            one, two, three = chained_fills(ann.rows, 3)
            client = ann.client
            data = client.framed([one])
            client.protocol.send_ping(b"are you there")
            data += b"".join(client.protocol.data_to_send())
            data += client.framed(
                ["3", two, '42/monitor,9["hello",{}]', three]
            )  # a pong, a namespace not joined
            client.send_bytes([data])
            answers = ann.answers({1, 2, 3, 9})
            assert [answers[n]["ok"] for n in (1, 2, 3)] == [True] * 3, answers
            assert answers[9]["error"]["code"] == "not_connected"
            assert [bytes(frame.data) for frame in client.controls] == [b"are you there"]
            acks = [int(m[1]) for m in map(ACK.fullmatch, client.messages()) if m is not None]
            assert [n for n in acks if n != 9] == [1, 2, 3], acks  # the refusal needs no commit
            assert answers[1]["seq"] < answers[2]["seq"] < answers[3]["seq"]


def test_a_fill_in_a_frame_with_a_16_bit_length_takes_the_lean_path() -> None:
    with serving("websockets-sansio", lean=True) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            payload = {
                "row_id": ann.rows[0],
                "column": "a",
                "value": "v" * 400,
                "new_row_id": "long",
                "seen_seq": 0,
            }
            ann.client.send("42/worker,1" + json.dumps(["fill", payload]))
            [answer] = ann.answers({1}).values()
            assert answer["ok"]
            assert answer["op"]["value"] == "v" * 400
            assert sum(taken(server)) == 1


def closing_code(lean: bool, data: bytes) -> int | None:
    """The close code the server answers ``data`` with."""
    from websockets.frames import Close, Opcode

    with serving("websockets-sansio", lean) as server:
        table_id = launched(server, GRID)
        with RawWorker(server, link(server, table_id, "ann")) as ann:
            ann.client.sock.settimeout(10)
            ann.client.send_bytes([data])
            with pytest.raises(ConnectionError):
                ann.client.read_until(10**6)  # until the server closes the connection
            closes = [frame for frame in ann.client.controls if frame.opcode is Opcode.CLOSE]
            return Close.parse(closes[0].data).code if closes else None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x81\x05hello", 1002),  # unmasked: a client's frames must be masked
        (b"\x81\x82\x00\x00\x00\x00\xc3\x28", 1007),  # not UTF-8
        (b"\xc1\x80\x00\x00\x00\x00", 1002),  # RSV1 without a negotiated extension
    ],
)
def test_a_frame_the_protocol_refuses_closes_the_connection_as_on_the_libraries_path(
    data: bytes, code: int
) -> None:
    assert closing_code(True, data) == closing_code(False, data) == code
