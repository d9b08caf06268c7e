"""The markets' own records for a table (HIT ids, approvals, bonuses), in one JSON file.

Every change is written at once and atomically (a temporary file renamed over the old one), so a
crash or Ctrl-C at any point leaves either the old or the new record, and a re-run resumes from it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from crowdfill.markets.mturk_client import Environment

PaymentStatus = Literal["pending", "paid", "failed"]
STATE_VERSION = 1


class StateError(ValueError):
    """A state file that cannot be read, or one that belongs to another table or environment."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class HitRecord:
    hit_id: str
    hit_type_id: str
    hit_group_id: str
    url: str
    reward_cents: int
    max_assignments: int
    created_at: str = field(default_factory=now)
    # The server's publish batch whose signature is in ``url`` (empty for HITs published before).
    batch: str = ""


@dataclass(frozen=True)
class PaymentRecord:
    """One worker's bonus: ``pending`` before the call, then ``paid`` or ``failed`` (with the error)."""

    worker: str
    cents: int
    assignment_id: str
    token: str
    status: PaymentStatus
    error: str = ""
    at: str = field(default_factory=now)


@dataclass
class MarketState:
    path: Path
    table_id: str
    environment: Environment | None = None
    hits: list[HitRecord] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)
    payments: dict[str, PaymentRecord] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, table_id: str) -> MarketState:
        """The state at ``path``, or a fresh one for ``table_id`` if there is no file yet."""
        if not path.exists():
            return cls(path=path, table_id=table_id)
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            state = cls(
                path=path,
                table_id=str(raw["table_id"]),
                environment=raw.get("environment"),
                hits=[HitRecord(**hit) for hit in raw.get("hits", [])],
                approved=[str(a) for a in raw.get("approved", [])],
                payments={w: PaymentRecord(**p) for w, p in raw.get("payments", {}).items()},
                blocked={str(w): str(r) for w, r in raw.get("blocked", {}).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StateError(f"cannot read the markets state file {path}: {error}") from error
        if state.table_id != table_id:
            raise StateError(f"{path} records table {state.table_id!r}, not {table_id!r}")
        if state.environment not in (None, "sandbox", "live"):
            raise StateError(f"{path} names an unknown MTurk environment {state.environment!r}")
        return state

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "table_id": self.table_id,
            "environment": self.environment,
            "hits": [asdict(hit) for hit in self.hits],
            "approved": self.approved,
            "payments": {worker: asdict(record) for worker, record in sorted(self.payments.items())},
            "blocked": self.blocked,
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        descriptor, temporary = tempfile.mkstemp(prefix=".state-", dir=self.path.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def use_environment(self, env: Environment) -> None:
        """Bind the state to ``env`` until HITs exist; then refuse to mix sandbox and live records."""
        if self.environment is None or (not self.hits and self.environment != env):
            self.environment = env
            self.save()
        elif self.environment != env:
            raise StateError(
                f"the HITs of table {self.table_id!r} were published in the MTurk {self.environment}; "
                f"this command was run against the {env}"
                + (" (add --live)" if self.environment == "live" else " (drop --live)")
            )

    def add_hit(self, record: HitRecord) -> None:
        self.hits.append(record)
        self.save()

    def mark_approved(self, assignment_id: str) -> None:
        if assignment_id not in self.approved:
            self.approved.append(assignment_id)
            self.save()

    def record_payment(self, record: PaymentRecord) -> None:
        self.payments[record.worker] = record
        self.save()

    def record_block(self, worker: str, reason: str) -> None:
        self.blocked[worker] = reason
        self.save()

    def paid_cents(self) -> int:
        return sum(record.cents for record in self.payments.values() if record.status == "paid")
