"""Blocking a worker on MTurk too, when the requester blocks them in CrowdFill."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crowdfill.markets.identity import mturk_worker_id
from crowdfill.markets.state import MarketState

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient


def block_worker(client: MTurkClient, state: MarketState, worker: str, reason: str) -> None:
    """CreateWorkerBlock for ``mturk:<WorkerId>``: they can no longer accept any of our HITs."""
    if not reason.strip():
        raise ValueError("MTurk shows the worker a reason for a block; give one")
    client.create_worker_block(WorkerId=mturk_worker_id(worker), Reason=reason.strip())
    state.record_block(worker, reason.strip())
