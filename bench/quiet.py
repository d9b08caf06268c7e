"""The table owner's listener port with nobody listening: the benchmarks that drive a
``TableOwner`` without sockets or webhooks hand it this."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotations: importing this must not pull in the server
    from crowdfill.server.owner import Published, TableOwner


class Quiet:
    """The owner's listener, ignoring what it is told."""

    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        return None

    async def completed(self, owner: TableOwner) -> None:
        return None

    def changed(self, owner: TableOwner) -> None:
        return None
