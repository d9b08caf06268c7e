"""A follower withholds a forward from its sender only while that sender waits for the ack (issue 18)."""

from __future__ import annotations

from crowdfill.server.owner import Published
from crowdfill.server.withheld import Withheld


def entry(seq: int, origin: str | None) -> Published:
    return Published(seq, {"type": "upvote", "row_id": f"r{seq}", "worker": "w"}, origin, "w")


def test_an_operation_broadcast_before_its_lost_ack_is_due_to_its_sender_when_the_forward_fails() -> None:
    withheld = Withheld()
    withheld.begin("sid-a")
    forwarded = withheld.addressed([entry(101, "sid-b"), entry(102, "sid-a")])
    # a waits here (its ack should follow); b waits for nothing here (another process's, or done).
    assert [e.origin for e in forwarded] == [None, "sid-a"]
    # The sequencer died before answering: the forward ends with a failure.
    assert withheld.end("sid-a", None) == [entry(102, "sid-a")]
    assert withheld.end("sid-a", None) == []


def test_an_acknowledged_operation_is_never_sent_to_its_sender_again() -> None:
    withheld = Withheld()
    withheld.begin("sid-a")
    withheld.addressed([entry(7, "sid-a")])
    assert withheld.end("sid-a", 7) == []
    assert [e.origin for e in withheld.addressed([entry(8, "sid-c")])] == [None]


def test_an_operation_broadcast_after_its_sender_stopped_waiting_goes_to_the_sender_too() -> None:
    withheld = Withheld()
    withheld.begin("sid-a")
    assert withheld.end("sid-a", None) == []  # timed out; the slow sequencer appends it later
    forwarded = withheld.addressed([entry(5, "sid-a"), entry(6, None)])
    assert [e.origin for e in forwarded] == [None, None]
    assert [e.seq for e in forwarded] == [5, 6]


def test_with_several_forwards_waiting_the_unacknowledged_ones_are_due_after_the_last_answer() -> None:
    withheld = Withheld()
    withheld.begin("sid-a")
    withheld.begin("sid-a")
    withheld.addressed([entry(3, "sid-a")])
    withheld.addressed([entry(4, "sid-a")])
    assert withheld.end("sid-a", None) == []  # the other answer may acknowledge 3 or 4
    assert withheld.end("sid-a", 4) == [entry(3, "sid-a")]


def test_an_answer_without_a_forward_waiting_changes_nothing() -> None:
    withheld = Withheld()
    assert withheld.end("sid-a", 1) == []
    assert withheld.end(None, None) == []
    withheld.begin(None)
    assert withheld.addressed([entry(2, None)]) == [entry(2, None)]
