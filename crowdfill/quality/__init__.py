"""Worker quality (DESIGN §7): pure, deterministic estimates of how reliable each voter is.

``reputation``: a Beta posterior per worker from their votes judged against gold rows (certain) and
the table's outcome (the final table), and the scoring weight that estimate earns; ``reweigh``:
the sequenced ``Reweigh`` operations a table's state calls for. Depends only on
the model; no I/O, no clock, no randomness.
"""

from __future__ import annotations

from crowdfill.quality.reputation import (
    Estimate,
    IncrementalEstimates,
    Outcome,
    ReputationSettings,
    estimate_workers,
    weight_of,
)
from crowdfill.quality.reweigh import ReweighTracker, due_reweighs, table_estimates

__all__ = [
    "Estimate",
    "IncrementalEstimates",
    "Outcome",
    "ReputationSettings",
    "ReweighTracker",
    "due_reweighs",
    "estimate_workers",
    "table_estimates",
    "weight_of",
]
