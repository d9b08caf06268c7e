"""Webhook signatures: what a receiver accepts and what it must refuse."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crowdfill.client import verify_signature
from crowdfill.client.signature import sign

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"table.launched"}'


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=2**40))
def test_a_signed_body_verifies_at_its_time(body: bytes, moment: int) -> None:
    assert verify_signature(SECRET, sign(SECRET, moment, body), body, now=moment)


def test_a_changed_body_another_secret_or_a_moved_time_is_refused() -> None:
    header = sign(SECRET, 1000, BODY)
    assert not verify_signature(SECRET, header, BODY + b" ", now=1000)
    assert not verify_signature("whsec_other", header, BODY, now=1000)
    assert not verify_signature(SECRET, header.replace("t=1000", "t=1001"), BODY, now=1000)


def test_an_old_delivery_is_refused_as_a_replay() -> None:
    header = sign(SECRET, 1000, BODY)
    assert verify_signature(SECRET, header, BODY, now=1000 + 300)
    assert not verify_signature(SECRET, header, BODY, now=1000 + 301)
    assert verify_signature(SECRET, header, BODY, now=5000, tolerance=4000)


def test_a_malformed_header_is_refused() -> None:
    for header in ("", "v1=abc", "t=soon,v1=abc", "t=1000"):
        assert not verify_signature(SECRET, header, BODY, now=1000)
