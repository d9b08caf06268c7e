"""Pausing the cyclic garbage collector around work that allocates a lot and frees nothing.

A big table is millions of live objects. Work that allocates many new ones at once (loading a
capture, settling and writing a finished table's final rows) triggers collections that walk the
whole heap again and again while finding nothing to free: at 100k logged operations that was
most of a close. The collector is paused for the block and restored after it (reference counting
still frees everything that is not in a cycle).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
