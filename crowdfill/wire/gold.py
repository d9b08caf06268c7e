"""Gold rows and screening on the wire: what the requester's gold endpoints answer (docs/quality.md).

The rows a requester sends are ``crowdfill.wire.definition.GoldRowModel``; these are the answers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from crowdfill.wire.definition import Scalar


class _Answer(BaseModel):
    # As crowdfill.wire.answers: fields a newer server adds are kept, not refused.
    model_config = ConfigDict(extra="allow")


class GoldRow(_Answer):
    id: str
    values: dict[str, Scalar | None]
    verdict: bool


class GoldRows(_Answer):
    gold: list[GoldRow]
    screening: dict[str, Any] | None = None


class GoldImported(GoldRows):
    imported: int


class GoldRemoved(_Answer):
    id: str
    deleted: bool = True


class GoldVote(_Answer):
    worker_id: str
    answer: Literal["up", "down"]
    right: bool


class GoldAnswer(GoldRow):
    """A gold row with each voter's answer; ``use`` is ``live`` (in the table) or ``screening``."""

    use: Literal["live", "screening"]
    votes: list[GoldVote]
    up: int = 0
    down: int = 0


class GoldAnswers(_Answer):
    gold: list[GoldAnswer]


class ScreeningOutcome(_Answer):
    """A worker's screening: ``passed`` or ``failed``, and how many of ``asked`` rows were right."""

    status: Literal["passed", "failed"]
    right: int
    asked: int
