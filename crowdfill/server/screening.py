"""Screening before work: a new worker answers the table's screening gold rows before joining.

A table whose definition has ``screening: {gold_rows: N, pass_fraction: x}`` shows each new worker
its first N gold rows (crowdfill.server.gold holds them back from the live table) as a
qualification step: the worker marks each row right (``up``) or wrong (``down``). At least
``pass_fraction`` of the answers right passes. The outcome is stored per worker, once: a worker who
failed is refused at every later connection, whatever the session or link, and the workers list
shows the outcome so a marketplace qualification (MTurk) or screen-out (Prolific) can follow it.

The questions carry ids ``q1``..``qN`` in an order of their own per worker, never the gold rows' ids.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

from crowdfill.server.definition import TableSpec
from crowdfill.server.failures import Failure
from crowdfill.server.gold import GoldRow, screening_gold
from crowdfill.store.port import Store

SCREENING_KIND = "screening"
PASSED = "passed"
FAILED = "failed"
PENDING = "pending"

FAILED_MESSAGE = (
    "Thank you for your time. Your answers to the qualification did not reach the level this "
    "table needs, so you cannot join it. You have not done anything wrong, and you will not be asked again."
)
PASSED_MESSAGE = "You passed the qualification. Welcome: the table opens now."


def _order(spec: TableSpec, table_id: str, worker_id: str) -> list[GoldRow]:
    """The screening rows in an order of their own for this worker (the same at every visit)."""

    def rank(row: GoldRow) -> str:
        return hashlib.sha256(f"{table_id}\0{worker_id}\0{row.row_id}".encode()).hexdigest()

    return sorted(screening_gold(spec), key=rank)


def questions(spec: TableSpec, table_id: str, worker_id: str) -> list[dict[str, Any]]:
    return [
        {"row_id": f"q{number}", "values": spec.schema.ordered(row.values)}
        for number, row in enumerate(_order(spec, table_id, worker_id), 1)
    ]


def grade(spec: TableSpec, table_id: str, worker_id: str, answers: Mapping[str, str]) -> dict[str, Any]:
    """The outcome of ``answers`` (question id -> "up" | "down"); Failure if one is missing or odd."""
    rule = spec.screening
    if rule is None:
        raise Failure("screening_not_required", "this table has no screening")
    ordered = _order(spec, table_id, worker_id)
    ids = [f"q{number}" for number in range(1, len(ordered) + 1)]
    unknown = sorted(set(answers) - set(ids))
    if unknown:
        raise Failure("malformed", f"unknown screening row(s) {unknown}; the rows are {ids}")
    missing = [q for q in ids if q not in answers]
    if missing:
        raise Failure("malformed", f"answer every screening row: no answer for {missing}")
    odd = {q: a for q, a in answers.items() if a not in ("up", "down")}
    if odd:
        raise Failure("malformed", f"an answer is 'up' (the row is right) or 'down' (it is wrong), got {odd}")
    by_gold = {row.row_id: answers[q] for q, row in zip(ids, ordered, strict=True)}
    right = sum((by_gold[row.row_id] == "up") == row.verdict for row in ordered)
    passed = right >= rule.pass_fraction * len(ordered) - 1e-9
    return {
        "status": PASSED if passed else FAILED,
        "right": right,
        "asked": len(ordered),
        "pass_fraction": rule.pass_fraction,
        "answers": by_gold,
        "at": time.time(),
    }


def public(outcome: Mapping[str, Any] | None, spec: TableSpec) -> dict[str, Any]:
    """What the worker is told about their screening (never which rows they got wrong)."""
    if spec.screening is None:
        return {"required": False, "status": PASSED}
    if outcome is None:
        return {"required": True, "status": PENDING}
    status = outcome["status"]
    return {
        "required": True,
        "status": status,
        "message": PASSED_MESSAGE if status == PASSED else FAILED_MESSAGE,
    }


class Screenings:
    """The stored outcomes; the first outcome of a worker is final."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def outcome(self, table_id: str, worker_id: str) -> dict[str, Any] | None:
        return await self._store.get_item(table_id, SCREENING_KIND, worker_id)

    async def record(self, table_id: str, worker_id: str, outcome: dict[str, Any]) -> dict[str, Any]:
        """Store ``outcome`` unless the worker already has one; return the one in force."""
        kept = await self.outcome(table_id, worker_id)
        if kept is not None:
            return kept
        await self._store.put_item(table_id, SCREENING_KIND, worker_id, outcome)
        return outcome

    async def outcomes(self, table_id: str) -> dict[str, dict[str, Any]]:
        return dict(await self._store.list_items(table_id, SCREENING_KIND))

    async def check_admission(self, spec: TableSpec, table_id: str, worker_id: str) -> None:
        """Failure unless the worker may join the live table (no screening, or passed)."""
        if spec.screening is None:
            return
        outcome = await self.outcome(table_id, worker_id)
        if outcome is None:
            raise Failure(
                "screening_required", "answer the table's qualification first (the worker page shows it)"
            )
        if outcome["status"] != PASSED:
            raise Failure("screening_failed", FAILED_MESSAGE)


def with_screening(
    entries: Sequence[dict[str, Any]], outcomes: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The workers list with each worker's screening outcome (None: not screened); screened workers
    who never joined (they failed, or have not connected since) are listed too."""
    listed = {entry["worker_id"] for entry in entries}
    result = [dict(entry) for entry in entries]
    for worker in sorted(set(outcomes) - listed):
        result.append(
            {
                "worker_id": worker,
                "online": False,
                "sessions": 0,
                "ops": 0,
                "estimated_cents": 0,
                "blocked": False,
            }
        )
    for entry in result:
        outcome = outcomes.get(entry["worker_id"])
        entry["screening"] = (
            {"status": outcome["status"], "right": outcome["right"], "asked": outcome["asked"]}
            if outcome is not None
            else None
        )
    return sorted(result, key=lambda entry: entry["worker_id"])
