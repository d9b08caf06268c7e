"""CrowdFill export (see DESIGN.md §7)."""

from __future__ import annotations
