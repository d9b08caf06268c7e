"""What a table looks like on MTurk: its HITs, their assignments, and the bonuses paid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crowdfill.markets.identity import mturk_worker
from crowdfill.markets.money import cents_to_amount
from crowdfill.markets.mturk_records import Assignment, Bonus, list_assignments, list_bonuses
from crowdfill.markets.state import MarketState

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient


@dataclass(frozen=True)
class HitStatus:
    hit_id: str
    status: str
    available: int
    pending: int
    completed: int
    max_assignments: int


@dataclass(frozen=True)
class MarketStatus:
    environment: str
    hits: tuple[HitStatus, ...]
    assignments: tuple[Assignment, ...]
    bonuses: tuple[Bonus, ...]
    state: MarketState

    def lines(self) -> list[str]:
        out = [f"table {self.state.table_id} on the MTurk {self.environment}: {len(self.hits)} HIT(s)"]
        for hit in self.hits:
            out.append(
                f"  HIT {hit.hit_id} {hit.status}: {hit.available} available, {hit.pending} pending, "
                f"{hit.completed} completed of {hit.max_assignments}"
            )
        counts: dict[str, int] = {}
        for assignment in self.assignments:
            counts[assignment.status] = counts.get(assignment.status, 0) + 1
        summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items())) or "none"
        out.append(f"assignments: {summary}")
        for assignment in self.assignments:
            out.append(
                f"  {assignment.assignment_id} {mturk_worker(assignment.worker_id)} {assignment.status}"
                + (f" at {assignment.submitted_at}" if assignment.submitted_at else "")
            )
        total = sum(bonus.cents for bonus in self.bonuses)
        out.append(f"bonuses on MTurk: {len(self.bonuses)}, ${cents_to_amount(total)}")
        for worker, record in sorted(self.state.payments.items()):
            error = f" ({record.error})" if record.error else ""
            out.append(f"  {record.status:<8} {worker} ${cents_to_amount(record.cents)}{error}")
        for worker, reason in sorted(self.state.blocked.items()):
            out.append(f"  blocked  {worker}: {reason}")
        return out


def market_status(client: MTurkClient, state: MarketState) -> MarketStatus:
    hits: list[HitStatus] = []
    for record in state.hits:
        hit = client.get_hit(HITId=record.hit_id)["HIT"]
        hits.append(
            HitStatus(
                hit_id=record.hit_id,
                status=hit.get("HITStatus", "Unknown"),
                available=hit.get("NumberOfAssignmentsAvailable", 0),
                pending=hit.get("NumberOfAssignmentsPending", 0),
                completed=hit.get("NumberOfAssignmentsCompleted", 0),
                max_assignments=hit.get("MaxAssignments", record.max_assignments),
            )
        )
    hit_ids = [record.hit_id for record in state.hits]
    return MarketStatus(
        environment=state.environment or "sandbox",
        hits=tuple(hits),
        assignments=tuple(list_assignments(client, hit_ids)),
        bonuses=tuple(list_bonuses(client, hit_ids)),
        state=state,
    )
