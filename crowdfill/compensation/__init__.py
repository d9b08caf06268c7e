"""CrowdFill compensation: split a table's budget by each worker's contribution to the final table.

Pure (standard library and ``crowdfill.model``), deterministic, no I/O. ``settle`` computes the
final payments from the operation log; ``Estimator`` keeps live estimates while the table fills.
The formulas are in docs/compensation.md.
"""

from __future__ import annotations

from crowdfill.compensation.errors import InvalidCompensation, LogMismatch
from crowdfill.compensation.estimator import Estimate, Estimator
from crowdfill.compensation.settings import CompensationSettings
from crowdfill.compensation.settlement import RowShare, Settlement, settle

__all__ = [
    "CompensationSettings",
    "Estimate",
    "Estimator",
    "InvalidCompensation",
    "LogMismatch",
    "RowShare",
    "Settlement",
    "settle",
]
