"""What a table's model in the loop is asked: one value shared by the runner and the definitions."""

from __future__ import annotations

from dataclasses import dataclass

from crowdfill.assist import Assistant


@dataclass(frozen=True)
class Attachment:
    """A table's model and what it is asked: ``predict`` a column of completed rows, ``suggest`` cells."""

    assistant: Assistant
    predict: str | None = None
    suggest: bool = False
    timeout: float = 2.0
