"""How a worker counts on a table: their weight and why it is 0 (quarantine or exclusion).

Read from the table's reweighs in force, so every replica that applied the same log says the same.
The worker page shows it (the ``standing`` event and the snapshot's ``standing``), the monitor and
the REST API list it per worker.
"""

from __future__ import annotations

from typing import Any

from crowdfill.model import CandidateTable

COUNTED = "counted"
QUARANTINED = "quarantined"  # the estimate fell below the table's floor (the server's reweigh)
EXCLUDED = "excluded"  # the requester excluded the worker by hand


def status_of(table: CandidateTable, worker: str) -> str:
    if table.excluded(worker):
        return EXCLUDED
    return QUARANTINED if table.weight(worker) == 0.0 else COUNTED


def standing_of(table: CandidateTable, worker: str) -> dict[str, Any]:
    """``{"weight", "counted", "status"}``: what the worker page needs to tell its worker."""
    status = status_of(table, worker)
    return {"weight": table.weight(worker), "counted": status == COUNTED, "status": status}
