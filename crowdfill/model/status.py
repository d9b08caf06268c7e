"""Row status: the data monitor's colours (DESIGN §2)."""

from __future__ import annotations

from enum import StrEnum

from crowdfill.model.scoring import Score


class Status(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"
    GREEN = "green"

    @property
    def probable(self) -> bool:
        return self in (Status.GREEN, Status.BLUE)


def status_of(score: Score, best_in_group: Score, complete: bool) -> Status:
    if score < 0:
        return Status.RED
    if score < best_in_group:
        return Status.YELLOW
    if score > 0 and complete:
        return Status.GREEN
    # score == 0 at the top of its group; an incomplete row cannot be upvoted, so it cannot be > 0
    # under a safe scoring, but if it were it would still only be probable, not final.
    return Status.BLUE
