"""Session fixtures every test directory may use: the throwaway PostgreSQL and Redis servers."""

from __future__ import annotations

from tests.support.services import postgres, redis

__all__ = ["postgres", "redis"]  # session fixtures, registered here by import
