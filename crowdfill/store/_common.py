"""Helpers every adapter shares, so that they accept and refuse exactly the same things."""

from __future__ import annotations

import json
from collections.abc import Sequence

from crowdfill.store.port import JSON, LogRecord, StaleEpoch, StoreConflict

RELEASED = float("-inf")
"""The expiry a released lease gets: expired for any clock."""


# One encoder for every payload: ``json.dumps`` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def encode_json(value: JSON) -> str:
    """JSON text for storage: ASCII only (lone surrogates from client input survive), no NaN."""
    if not isinstance(value, dict):
        raise TypeError(f"a stored JSON payload must be an object, not {type(value).__name__}")
    return _ENCODER.encode(value)


def decode_json(text: str) -> JSON:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"a stored JSON payload is {type(value).__name__}, not an object")
    return value


def check_seq(seq: object) -> int:
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TypeError(f"a sequence number must be an int, not {type(seq).__name__}")
    return seq


def check_batch(table_id: str, last_seq: int, records: Sequence[LogRecord]) -> None:
    """StoreConflict unless ``records`` continue the log exactly: last_seq + 1, + 2, ..."""
    for offset, record in enumerate(records, start=1):
        expected = last_seq + offset
        if check_seq(record.seq) != expected:
            raise StoreConflict(
                f"table {table_id!r}: the batch must continue the log at seq {expected} "
                f"(last stored seq is {last_seq}), but record {offset} has seq {record.seq}"
            )


def check_read(after_seq: int, limit: int | None) -> None:
    check_seq(after_seq)
    if limit is not None and (check_seq(limit) < 0):
        raise ValueError(f"limit must be None or >= 0, not {limit}")


def check_snapshot_seq(table_id: str, seq: int, last_seq: int) -> None:
    if not 0 <= check_seq(seq) <= last_seq:
        raise StoreConflict(
            f"table {table_id!r}: a snapshot must be taken at a stored seq (0..{last_seq}), not {seq}"
        )


def check_capture(table_id: str, seq: int, blob: object, last_seq: int) -> bytes:
    """A state capture is bytes taken at a stored seq (as a snapshot is)."""
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise TypeError(f"table {table_id!r}: a state capture is bytes, not {type(blob).__name__}")
    check_snapshot_seq(table_id, seq, last_seq)
    return bytes(blob)


def check_lease_args(holder: str, ttl: float) -> None:
    if not isinstance(holder, str) or not holder:
        raise ValueError("a lease holder must be a non-empty string")
    if not ttl > 0:
        raise ValueError(f"a lease ttl must be > 0 seconds, not {ttl}")


def check_epoch(table_id: str, epoch: int | None, current: int | None) -> None:
    """StaleEpoch unless an append fenced at ``epoch`` is by the table's current lease holder."""
    if epoch is not None and epoch != current:
        shown = "no lease" if current is None else f"the current epoch is {current}"
        raise StaleEpoch(f"table {table_id!r}: an append at lease epoch {epoch} is fenced off ({shown})")
