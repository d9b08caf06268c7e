"""A capture's signed header is checked before its pickle is loaded."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import pickle

import pytest

from crowdfill.server.capture import (
    FORMAT,
    MAGIC,
    CaptureRefused,
    _Pickler,
    decode,
    definition_digest,
    encode,
)
from tests.server.test_recovery_capture import owner_of, state, worked_and_stopped
from tests.support.live_server import test_settings

KEY = b"the-server-secret"
LOADED: list[str] = []


def tripwire() -> tuple[()]:
    """Called only if a pickle holding a ``Tripwire`` is loaded."""
    LOADED.append("loaded")
    return ()


class Tripwire:
    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (tripwire, ())


def no_row_ids() -> str:
    raise AssertionError("not called while decoding")


def signed(payload: bytes, key: bytes = KEY, magic: bytes = MAGIC) -> bytes:
    return magic + hmac.new(key, payload, hashlib.sha256).digest() + payload


def with_header(header: dict[str, object]) -> bytes:
    text = json.dumps(header).encode()
    return signed(len(text).to_bytes(4, "big") + text + pickle.dumps(Tripwire()))


def refusal(blob: bytes) -> str:
    LOADED.clear()
    with pytest.raises(CaptureRefused) as refused:
        decode(KEY, blob, table_id="t", seq=7, definition="d", row_ids=no_row_ids)
    assert LOADED == []  # refused before a byte of the pickle was loaded
    return str(refused.value)


def test_a_capture_round_trips_through_its_header_and_pickle() -> None:
    blob = encode(KEY, "t", 7, "d", (1, "two"), no_row_ids)
    assert decode(KEY, blob, table_id="t", seq=7, definition="d", row_ids=no_row_ids).state == (1, "two")


def test_the_rest_of_a_capture_is_loaded_only_when_asked_for_and_shares_the_first_parts_objects() -> None:
    shared = frozenset({("a", "x")})
    blob = encode(KEY, "t", 7, "d", (shared, 1), no_row_ids, ([shared], Tripwire()))
    LOADED.clear()
    captured = decode(KEY, blob, table_id="t", seq=7, definition="d", row_ids=no_row_ids)
    assert captured.state == (shared, 1)
    assert LOADED == []  # the rest waits
    held, _ = captured.rest()
    assert LOADED == ["loaded"]
    assert held[0] is captured.state[0]  # one memo: the same object, not an equal copy
    with pytest.raises(CaptureRefused):
        captured.rest()  # once


def test_a_capture_of_another_format_is_refused_before_its_pickle_is_loaded() -> None:
    header = {"format": FORMAT - 1, "table": "t", "seq": 7, "definition": "d"}
    assert "format" in refusal(with_header(header))


def test_a_capture_whose_header_has_no_format_is_refused_before_its_pickle_is_loaded() -> None:
    assert "format" in refusal(with_header({"table": "t", "seq": 7, "definition": "d"}))


def test_a_capture_of_another_table_or_seq_is_refused_before_its_pickle_is_loaded() -> None:
    assert "table" in refusal(with_header({"format": FORMAT, "table": "u", "seq": 7, "definition": "d"}))
    assert "seq" in refusal(with_header({"format": FORMAT, "table": "t", "seq": 6, "definition": "d"}))
    assert "definition" in refusal(with_header({"format": FORMAT, "table": "t", "seq": 7, "definition": "e"}))


def test_a_capture_of_the_headerless_layout_is_refused_unread_even_when_signed() -> None:
    old = signed(pickle.dumps((1, "t", 7, "d", Tripwire())), magic=b"CFCAPT1\n")
    assert "layout" in refusal(old)


def test_a_capture_with_a_damaged_header_is_refused_after_its_signature_is_checked() -> None:
    assert "signature" in refusal(with_header({"format": FORMAT})[:-3] + b"xyz")
    assert "header" in refusal(signed(b"\x00\x00\x00\x09{not json" + pickle.dumps(Tripwire())))
    assert "header" in refusal(signed(b"\x00\x00\x01\x00{}"))


async def test_a_stored_capture_of_the_headerless_layout_is_refused_and_the_log_replayed() -> None:
    config = test_settings(capture_every=5, capture_fork=False)
    store, expected = await worked_and_stopped(config, 6, 30)
    saved = await store.load_capture("t")
    assert saved is not None
    payload = pickle.dumps((1, "t", saved[0], "d", Tripwire()))
    key = config.secret.encode()
    await store.save_capture(
        "t", saved[0], b"CFCAPT1\n" + hmac.new(key, payload, hashlib.sha256).digest() + payload
    )
    LOADED.clear()
    restored = await owner_of(store, config)
    assert LOADED == []
    assert state(restored)["table"] == expected["table"]
    assert restored.seq == expected["seq"]
    await restored.stop()


async def test_a_stored_capture_of_the_format_before_is_refused_and_the_log_replayed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Format 5: one pickle of the whole state, the estimator among it (now it is in a second
    # pickle, loaded later). It is refused unread and the log replayed.
    config = test_settings(capture_every=5, capture_fork=False)
    store, expected = await worked_and_stopped(config, 6, 30)
    live = await owner_of(store, config)
    old_state = (
        Tripwire(),
        live.table,
        live.central,
        live.sequencer,
        live.estimator,
        live.ops_by_worker,
        live._replaced,
        live._filled,
    )
    digest = definition_digest(live.spec.definition)
    header = json.dumps({"format": 5, "table": "t", "seq": live.seq, "definition": digest}).encode()
    buffer = io.BytesIO()
    _Pickler(buffer, live._new_row_id).dump(old_state)
    payload = len(header).to_bytes(4, "big") + header + buffer.getvalue()
    await store.save_capture("t", live.seq, signed(payload, config.secret.encode()))
    await live.stop()
    LOADED.clear()
    restored = await owner_of(store, config)
    assert LOADED == []
    assert "format 5" in caplog.text
    assert state(restored)["table"] == expected["table"]
    assert restored.seq == expected["seq"]
    await restored.stop()
