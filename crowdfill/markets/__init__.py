"""Recruiting and paying workers: Amazon Mechanical Turk and Prolific (DESIGN.md §7).

The pure helpers here are what the server needs to bind a marketplace worker to a session; the
``crowdfill mturk`` and ``crowdfill prolific`` commands (``cli.py``) do the rest over the REST API.
"""

from __future__ import annotations

from crowdfill.markets.identity import (
    MarketIdentityError,
    MTurkVisit,
    ProlificVisit,
    market_of,
    mturk_visit,
    mturk_worker,
    mturk_worker_id,
    prolific_completion_url,
    prolific_participant_id,
    prolific_visit,
    prolific_worker,
)
from crowdfill.markets.money import amount_to_cents, cents_to_amount

__all__ = [
    "MTurkVisit",
    "MarketIdentityError",
    "ProlificVisit",
    "amount_to_cents",
    "cents_to_amount",
    "market_of",
    "mturk_visit",
    "mturk_worker",
    "mturk_worker_id",
    "prolific_completion_url",
    "prolific_participant_id",
    "prolific_visit",
    "prolific_worker",
]
