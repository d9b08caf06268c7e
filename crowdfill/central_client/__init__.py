"""The central client: the only inserter of rows; keeps the Probable Rows Invariant (DESIGN §3)."""

from __future__ import annotations

from crowdfill.central_client.client import CentralClient

__all__ = ["CentralClient"]
