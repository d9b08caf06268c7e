"""Pausing the cyclic garbage collector around work that allocates a lot and frees nothing, and
handing memory freed by a big load back to the operating system.

A big table is millions of live objects. Work that allocates many new ones at once (loading a
capture, settling and writing a finished table's final rows) triggers collections that walk the
whole heap again and again while finding nothing to free: at 100k logged operations that was
most of a close. The collector is paused for the block and restored after it (reference counting
still frees everything that is not in a cycle).

Objects allocated while the collector is paused still start in its youngest generation: the
first collections after a load would each walk all of them again (at a million logged operations,
about 0.7 s a walk, three walks before they reach the oldest generation). ``promote_to_oldest``
moves them there at once (``gc.freeze`` then ``gc.unfreeze``, which only splice the collector's
lists): only a later full collection walks them, once. At startup that is none: the server
collects once before it recovers its tables, and after them only the young generations before it
freezes everything alive (``crowdfill.server.sockets``).

Restoring a big table frees a lot at once (the capture's bytes, the decoded log tail) among the
millions of objects it keeps. The C allocator keeps what it freed for reuse, and the process's
resident memory stays as high as at the peak of the load; ``release_freed_memory`` asks it to
return its free pages (glibc's ``malloc_trim``; elsewhere nothing happens).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
from collections.abc import Callable, Iterator
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


def promote_to_oldest() -> bool:
    """Move every object the collector tracks into its oldest generation, without walking them;
    whether it did. Not once something is frozen (the server's startup heap,
    ``crowdfill.server.sockets``): ``gc.unfreeze`` would hand all of that back to the collector."""
    if gc.get_freeze_count():
        return False
    gc.freeze()
    gc.unfreeze()
    return True


def release_freed_memory() -> bool:
    """Return the C allocator's free pages to the operating system; whether it could be asked."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, the C library's among them
    except OSError:
        return None
    trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)  # glibc only (not musl)
    return trim
