"""A table owner's derived state as one signed blob (docs/scale.md), and back.

The capture holds everything the owner derives from the log: the candidate table (rows, groups,
scores, tallies, ties), the central client with its matchings, the sequencer, the compensation
estimator with its ledger, and the owner's per-worker counts and fill bookkeeping. It is Python's
pickle of those objects, so restoring is one C-speed pass instead of re-running ``integrate`` for
every logged operation. Pickle runs code when it loads, so a blob is only loaded after its
HMAC-SHA256 under the server's secret checks out: a database edited by someone without the secret
yields a refused capture (the owner falls back to replaying the log), never code execution.

Layout: ``MAGIC`` | 32-byte HMAC | 4-byte header length | header | pickle of the state | pickle
of the rest of the state. The header is JSON {format, table, seq, definition digest}; the HMAC
covers everything after it. The header is checked before the pickle is loaded, so a capture of
another format (whose classes this code may not fill) or of another table, seq or definition is
refused without unpickling it. The definition digest ties a capture to the definition it was made
under; FORMAT changes whenever the captured classes change shape incompatibly.

The two pickles are written by one pickler and read by one unpickler, so they share one memo: the
second refers to the first's objects (the table's rows and value sets) instead of copying them.
The first holds what a restored table needs to serve and to replay its log tail; the second (the
compensation estimator, about half of the bytes) is loaded when it is first needed
(``Captured.rest``), once the table serves.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import io
import json
import pickle  # only loaded after its HMAC under the server's secret verifies (see above)
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crowdfill.server.heap import collector_paused, promote_to_oldest, release_freed_memory

# 2: the signed JSON header. Layout 1 (everything inside the pickle) is refused unread: its format
# could only be learnt by unpickling all of it.
MAGIC = b"CFCAPT2\n"
_HEADER_LENGTH = 4
# 2: slotted Row, tuple ledger and estimator records, the table's shared items;
# 3: small member sets held as tuples (crowdfill.model.members);
# 4: the central client's matchings on plain adjacency maps (no networkx graphs), estimator shares
# as workers and fraction indices, the table's tombstones, the owner's fill records with their
# worker, the ledger's votes as flat sequences;
# 5: the ledger's one record per row (``Ledger.rows``), the table's order kept with its live rows
# (docs/scale.md, "One record per row": those classes changed shape without FORMAT moving, so a
# format-4 capture from before them loaded into objects missing fields, failing at their first use).
# 6: the state in two pickles sharing one memo, the estimator in the second (see above).
FORMAT = 6
_ROW_IDS = "owner-row-ids"  # the owner's fresh-row-id function is not captured; the loader supplies it


class CaptureRefused(Exception):
    """A stored capture that cannot be used (wrong key, table, definition or format; damaged)."""


@dataclass
class Captured:
    """What a capture restores (the owner's fields of the same meaning): ``state`` at once, and
    ``rest()`` the rest of it, loaded when called (once)."""

    seq: int
    state: tuple[Any, ...]
    rest: Callable[[], tuple[Any, ...]]


def definition_digest(definition: dict[str, Any]) -> str:
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, row_ids: Callable[[], str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._row_ids = row_ids

    def persistent_id(self, obj: Any) -> str | None:  # pickle's hook takes any object
        # A bound method of the owner would drag the whole owner (store, queue, futures) along.
        if obj is self._row_ids or (isinstance(obj, types.MethodType) and obj == self._row_ids):
            return _ROW_IDS
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, row_ids: Callable[[], str]) -> None:
        super().__init__(file)
        self._row_ids = row_ids

    def persistent_load(self, pid: Any) -> Any:  # pickle's hook returns any object
        if pid != _ROW_IDS:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self._row_ids


def encode(
    key: bytes,
    table_id: str,
    seq: int,
    definition: str,
    state: tuple[Any, ...],
    row_ids: Callable[[], str],
    rest: tuple[Any, ...] = (),
) -> bytes:
    """The signed blob of ``state`` and ``rest`` (taken after ``seq``; ``rest`` is loaded only
    when asked for); ``definition`` is its definition_digest."""
    header = json.dumps({"format": FORMAT, "table": table_id, "seq": seq, "definition": definition}).encode()
    buffer = io.BytesIO()
    buffer.write(len(header).to_bytes(_HEADER_LENGTH, "big"))
    buffer.write(header)
    pickler = _Pickler(buffer, row_ids)
    pickler.dump(state)
    pickler.dump(rest)  # the same pickler: what ``rest`` shares with ``state`` is written once
    payload = buffer.getvalue()
    return MAGIC + hmac.new(key, payload, hashlib.sha256).digest() + payload


def decode(
    key: bytes, blob: bytes, *, table_id: str, seq: int, definition: str, row_ids: Callable[[], str]
) -> Captured:
    """The state in ``blob``; CaptureRefused unless it is this table's, at ``seq``, signed with ``key``."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 32:
        raise CaptureRefused("not a CrowdFill state capture (or one of an unknown layout)")
    mac = blob[len(MAGIC) : len(MAGIC) + 32]
    payload = memoryview(blob)[len(MAGIC) + 32 :]
    if not hmac.compare_digest(mac, hmac.new(key, payload, hashlib.sha256).digest()):
        raise CaptureRefused("its signature does not verify under this server's secret")
    header = _header(payload)
    form = header.get("format")
    if form != FORMAT:
        raise CaptureRefused(f"it has format {form!r}; this server reads format {FORMAT}")
    captured_table, captured_seq = header.get("table"), header.get("seq")
    if captured_table != table_id or captured_seq != seq:
        raise CaptureRefused(
            f"it is of table {captured_table!r} at seq {captured_seq}, not {table_id!r} at {seq}"
        )
    if header.get("definition") != definition:
        raise CaptureRefused("it was taken under another definition of the table")
    # The HMAC verified: these bytes were written by a server holding the secret.
    start = len(MAGIC) + 32 + _HEADER_LENGTH + int.from_bytes(payload[:_HEADER_LENGTH], "big")
    del payload  # a view of the blob
    # A BytesIO of the bytes object itself shares its buffer (a slice of the memoryview would be
    # copied whole first: another capture's worth of memory at the peak).
    stream = io.BytesIO(blob)
    stream.seek(start)
    rest = _Rest(_Unpickler(stream, row_ids))
    return Captured(seq, rest.load(), rest)


class _Rest:
    """The capture's pickles, read one after the other by one unpickler (whose memo the second
    shares with the first): the first at once, the second when called, once; the unpickler and
    with it the capture's bytes are let go then."""

    def __init__(self, unpickler: _Unpickler) -> None:
        self._unpickler: _Unpickler | None = unpickler

    def load(self) -> tuple[Any, ...]:
        unpickler = self._unpickler
        if unpickler is None:
            raise CaptureRefused("the rest of this capture was loaded already")
        # Loading allocates millions of objects at once: the cyclic collector would walk the
        # growing heap again and again (most of the load's time) while finding nothing to free.
        frozen = gc.get_freeze_count() > 0
        if frozen:
            # The server froze its startup heap: what is loaded now (the rest, while the table
            # serves) is frozen with what is alive, as the startup freeze does
            # (``crowdfill.server.sockets``); the young generations are collected first, then,
            # so that collection does not walk the loaded objects.
            gc.collect(1)
        try:
            with collector_paused():
                state = unpickler.load()
                if frozen:
                    gc.freeze()
                else:
                    promote_to_oldest()  # long-lived: the young generations need not walk them
        except (
            pickle.UnpicklingError,
            AttributeError,
            ImportError,
            EOFError,
            LookupError,  # a field that a class's __setstate__ reads is missing
            TypeError,
            ValueError,
        ) as error:
            self._unpickler = None
            raise CaptureRefused(f"it does not load with this version of CrowdFill ({error})") from error
        if not isinstance(state, tuple):
            self._unpickler = None
            raise CaptureRefused("its state has an unknown shape")
        return state

    def __call__(self) -> tuple[Any, ...]:
        try:
            return self.load()
        finally:
            self._unpickler = None  # and the capture's bytes it reads, unless the caller holds them
            release_freed_memory()


def _header(payload: memoryview) -> dict[str, Any]:
    """The signed header of a verified payload; CaptureRefused if it is not one."""
    length = int.from_bytes(payload[:_HEADER_LENGTH], "big")
    if len(payload) < _HEADER_LENGTH + length:
        raise CaptureRefused("its header is cut short")
    try:
        header = json.loads(bytes(payload[_HEADER_LENGTH : _HEADER_LENGTH + length]))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CaptureRefused(f"its header is not JSON ({error})") from error
    if not isinstance(header, dict):
        raise CaptureRefused("its header has an unknown shape")
    return header
