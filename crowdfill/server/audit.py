"""Audit a table: replay its stored log from nothing and check it reproduces what the server holds.

The replay is the one recovery uses (``crowdfill.central_client.sequencer.replay``): a fresh model
and central client take the log one operation at a time, the completion is where the template is
first satisfied, and the payments are ``settle`` of the replayed table and operations. The checks
compare that with the table the server serves, the completion it stored and the settlement it
stored. The digests let a requester show a worker or a reviewer which log led to which outcome:
anyone holding the log (``GET /api/tables/{id}/log``) can replay it and get the same digests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from crowdfill.central_client import CentralClient
from crowdfill.central_client.sequencer import Sequencer, replay
from crowdfill.compensation import settle
from crowdfill.model import CandidateTable, CrowdFillError, Reweigh, Sequenced
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.server.definition import TableSpec
from crowdfill.server.owner import CLOSED, COMPLETE, LIVE
from crowdfill.server.views import candidate_rows, plain_rows
from crowdfill.store.port import LogRecord

# What a row's status is made of; the candidate row's "group" is left out (it follows from values).
STATUS_FIELDS = ("values", "up", "down", "score", "status", "final")


@dataclass(frozen=True)
class Held:
    """What the server holds for a table: what it serves (status, rows) and what it stored at the end."""

    status: str
    candidates: list[dict[str, Any]]
    final: list[dict[str, Any]]
    completion: dict[str, Any] | None
    settlement: dict[str, Any] | None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Audit:
    table_id: str
    operations: int
    completion_seq: int | None
    checks: tuple[Check, ...]
    divergences: tuple[str, ...]
    log_digest: str
    outcome_digest: str

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table_id": self.table_id,
            "ok": self.ok,
            "operations": self.operations,
            "completion_seq": self.completion_seq,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "divergences": list(self.divergences),
            "log_digest": self.log_digest,
            "outcome_digest": self.outcome_digest,
        }


def canonical_json(value: object) -> bytes:
    """The bytes the digests are taken of: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(value: object) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def audit(table_id: str, spec: TableSpec, log: Sequence[LogRecord], held: Held) -> Audit:
    """Replay ``log`` (every stored record, in seq order) and compare the outcome with ``held``."""
    divergences: list[str] = []
    entries: list[tuple[int, Sequenced]] = []
    for record in log:
        try:
            entries.append((record.seq, sequenced_from_wire(record.operation)))
        except CrowdFillError as error:
            divergences.append(f"seq {record.seq}: not an operation ({error.code}: {error.message})")
    table = CandidateTable(spec.schema, spec.scoring, spec.template)
    replayed = replay(
        Sequencer(table, CentralClient(table, _audit_row_id, close_when_satisfied=False)), entries
    )
    divergences.extend(replayed.divergences)
    last_seq = log[-1].seq if log else 0

    if replayed.completion_seq is not None:
        status = COMPLETE
    elif held.status == CLOSED:
        status = CLOSED  # the requester's close is not an operation: the stored close is taken as given
    else:
        status = LIVE
    payments: dict[str, Any] | None = None
    payments_error: str | None = None
    if status in (COMPLETE, CLOSED):
        try:
            applied = [op for _, op in replayed.applied if not isinstance(op, Reweigh)]
            settlement = settle(table, applied, spec.compensation, completed=status == COMPLETE)
            payments = _json(settlement.to_dict())
        except CrowdFillError as error:
            payments_error = f"the replayed log cannot be settled ({error.code}: {error.message})"
    candidates = _json(candidate_rows(table))
    final = _json(plain_rows(table, final=True))

    checks = (
        _check_statuses(held, status, candidates),
        _check_rows("final_table", _json(held.final), final),
        _check_completion(held, replayed.completion_seq, status, last_seq),
        _check_payments(held, payments, payments_error),
        Check("log", not divergences, "; ".join(divergences) or "every operation replays in place"),
    )
    outcome = {
        "status": status,
        "completion_seq": replayed.completion_seq,
        "candidates": candidates,
        "final": final,
        "payments": payments,
    }
    return Audit(
        table_id=table_id,
        operations=len(log),
        completion_seq=replayed.completion_seq,
        checks=checks,
        divergences=tuple(divergences),
        log_digest=digest([record.operation for record in log]),
        outcome_digest=digest(outcome),
    )


def _json(value: Any) -> Any:
    # Stored records read back as after a JSON round trip; compare like with like.
    return json.loads(json.dumps(value))


def _check_statuses(held: Held, status: str, candidates: list[dict[str, Any]]) -> Check:
    if held.status != status:
        return Check("statuses", False, f"the table is {held.status}; the log makes it {status}")
    return _check_rows("statuses", _json(held.candidates), candidates, STATUS_FIELDS)


def _check_rows(
    name: str,
    stored: list[dict[str, Any]],
    replayed: list[dict[str, Any]],
    fields: Sequence[str] = ("values",),
) -> Check:
    """Rows by id (the order a replica added them in is not part of the outcome)."""
    held_rows = {row["row_id"]: {f: row.get(f) for f in fields} for row in stored}
    new_rows = {row["row_id"]: {f: row.get(f) for f in fields} for row in replayed}
    problems = [f"row {r!r} is not made by the log" for r in sorted(held_rows.keys() - new_rows.keys())]
    problems += [f"row {r!r} is missing" for r in sorted(new_rows.keys() - held_rows.keys())]
    for row_id in sorted(held_rows.keys() & new_rows.keys()):
        for field in fields:
            if held_rows[row_id][field] != new_rows[row_id][field]:
                shown, made = held_rows[row_id][field], new_rows[row_id][field]
                problems.append(f"row {row_id!r}: {field} is {shown!r}, the log makes {made!r}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        return Check(name, False, "; ".join(problems[:5]) + more)
    return Check(name, True, f"{len(new_rows)} row(s) as stored")


def _check_completion(held: Held, completion: int | None, status: str, last_seq: int) -> Check:
    stored = held.completion
    if status == LIVE:
        if stored is not None:
            return Check("completion_seq", False, f"a live table with a stored end {stored}")
        return Check("completion_seq", True, "not complete (live)")
    if stored is None:
        return Check("completion_seq", False, "no completion is stored for this finished table")
    stored_seq = stored.get("seq")
    if stored.get("status") != status:
        return Check("completion_seq", False, f"stored as {stored.get('status')}; the log makes it {status}")
    if status == CLOSED:
        if stored_seq != last_seq:
            return Check(
                "completion_seq", False, f"closed at seq {stored_seq} but the log ends at {last_seq}"
            )
        return Check("completion_seq", True, f"closed by the requester at seq {stored_seq}")
    if stored_seq != completion:
        return Check("completion_seq", False, f"stored {stored_seq}, the log completes at {completion}")
    if last_seq != completion:
        return Check("completion_seq", False, f"completes at {completion} but the log goes on to {last_seq}")
    return Check("completion_seq", True, f"completed at seq {completion}")


def _check_payments(held: Held, payments: dict[str, Any] | None, error: str | None) -> Check:
    if error is not None:
        return Check("payments", False, error)
    if payments is None:
        if held.settlement is not None:
            return Check("payments", False, "a settlement is stored for a table the log leaves live")
        return Check("payments", True, "not settled yet (live)")
    if held.settlement is None:
        return Check("payments", False, "no settlement is stored for this finished table")
    if held.settlement != payments:
        return Check("payments", False, _payment_difference(held.settlement, payments))
    return Check("payments", True, f"{_total(payments)} cents as stored")


def _total(settlement: dict[str, Any]) -> int:
    payments = settlement.get("payments")
    return sum(int(c) for c in payments.values()) if isinstance(payments, dict) else 0


def _payment_difference(stored: dict[str, Any], replayed: dict[str, Any]) -> str:
    held, made = stored.get("payments"), replayed.get("payments")
    if isinstance(held, dict) and isinstance(made, dict) and held != made:
        workers = sorted(held.keys() | made.keys())
        shown = [
            f"{w}: stored {held.get(w, 0)}, replayed {made.get(w, 0)} cents"
            for w in workers
            if held.get(w) != made.get(w)
        ]
        return "payments differ: " + "; ".join(shown)
    differing = sorted(key for key in stored.keys() | replayed.keys() if stored.get(key) != replayed.get(key))
    return f"the stored settlement differs from the replayed one in {differing}"


def _audit_row_id() -> str:
    # The replay draws the central client's ids from the log; this only names what it would plan
    # after the log's end, which the audit never applies.
    return "audit-unlogged"
