"""CrowdFill: collect structured data from a crowd in one shared, live table."""

from __future__ import annotations

__version__ = "0.1.0"
