"""Compensation errors, in the model's hierarchy so the server maps them like any domain error."""

from __future__ import annotations

from crowdfill.model.errors import CrowdFillError, InvalidDefinition


class InvalidCompensation(InvalidDefinition):
    """Compensation settings that cannot be used (a bad budget, growth, share or column weight)."""

    code = "invalid_compensation"


class LogMismatch(CrowdFillError):
    """The operation log given to ``settle`` is not the history of the table given with it."""

    code = "log_mismatch"
