"""A living dataset: export again every few seconds while collection runs, until the table is done."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crowdfill.export.fields import Record


def fingerprint(records: Sequence[Record]) -> str:
    """A digest of the rows, to skip rewriting (and re-pushing) an export that has not changed."""
    text = json.dumps(records, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Round:
    finished: bool
    changed: bool
    rows: int


def keep_exporting(
    export_once: Callable[[], Round],
    every: float,
    max_rounds: int,
    on_round: Callable[[int, Round], None] = lambda n, r: None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call ``export_once`` every ``every`` seconds until the table is finished or ``max_rounds`` ran.

    Returns the number of rounds. Ctrl-C (KeyboardInterrupt) is left to the caller: each round's
    files are replaced atomically, so stopping at any point leaves the last complete export.
    """
    if every <= 0:
        raise ValueError("the export interval must be positive")
    if max_rounds < 1:
        raise ValueError("run at least one round")
    for number in range(1, max_rounds + 1):
        result = export_once()
        on_round(number, result)
        if result.finished:
            return number
        if number < max_rounds:
            sleep(every)
    return max_rounds
