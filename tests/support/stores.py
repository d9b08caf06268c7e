"""Stores that wrap a real one to fail on cue (our own port, faked only where a test needs a fault)."""

from __future__ import annotations

from collections.abc import Sequence

from crowdfill.store.port import LogRecord, Store, StoreError


class FailNextAppend:
    """A store whose next append fails with ``StoreError`` when told to (``fail_next``); the rest
    goes to ``inner``."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.fail_next = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def append(self, table_id: str, records: Sequence[LogRecord], *, epoch: int | None = None) -> None:
        if self.fail_next:
            self.fail_next = False
            raise StoreError("the disk is full")
        await self.inner.append(table_id, records, epoch=epoch)
