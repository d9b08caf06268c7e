"""Reading what MTurk knows about a table's HITs: assignments and bonuses, all pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from crowdfill.markets.money import amount_to_cents

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient
    from mypy_boto3_mturk.literals import AssignmentStatusType

PAGE_SIZE = 100
ASSIGNMENT_STATUSES: tuple[AssignmentStatusType, ...] = ("Submitted", "Approved", "Rejected")


@dataclass(frozen=True)
class Assignment:
    assignment_id: str
    worker_id: str
    hit_id: str
    status: str
    submitted_at: str = ""


@dataclass(frozen=True)
class Bonus:
    worker_id: str
    assignment_id: str
    cents: int


def list_assignments(client: MTurkClient, hit_ids: Iterable[str]) -> list[Assignment]:
    """Every submitted, approved or rejected assignment of the HITs, in a stable order."""
    paginator = client.get_paginator("list_assignments_for_hit")
    found: list[Assignment] = []
    for hit_id in hit_ids:
        pages = paginator.paginate(
            HITId=hit_id,
            AssignmentStatuses=list(ASSIGNMENT_STATUSES),
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        for page in pages:
            for item in page.get("Assignments", []):
                submitted = item.get("SubmitTime")
                found.append(
                    Assignment(
                        assignment_id=item["AssignmentId"],
                        worker_id=item["WorkerId"],
                        hit_id=item.get("HITId", hit_id),
                        status=item.get("AssignmentStatus", "Submitted"),
                        submitted_at=submitted.isoformat() if isinstance(submitted, datetime) else "",
                    )
                )
    return sorted(found, key=lambda a: (a.submitted_at, a.assignment_id))


def list_bonuses(client: MTurkClient, hit_ids: Iterable[str]) -> list[Bonus]:
    """Every bonus already granted on the HITs: MTurk's own record of who has been paid."""
    paginator = client.get_paginator("list_bonus_payments")
    found: list[Bonus] = []
    for hit_id in hit_ids:
        for page in paginator.paginate(HITId=hit_id, PaginationConfig={"PageSize": PAGE_SIZE}):
            found.extend(
                Bonus(
                    worker_id=item["WorkerId"],
                    assignment_id=item.get("AssignmentId", ""),
                    cents=amount_to_cents(item["BonusAmount"]),
                )
                for item in page.get("BonusPayments", [])
            )
    return found


def bonus_cents_by_worker(bonuses: Iterable[Bonus]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for bonus in bonuses:
        totals[bonus.worker_id] = totals.get(bonus.worker_id, 0) + bonus.cents
    return totals
