"""Several server processes on one store: table ownership by lease, and messages over Redis.

``Ownership`` decides which process sequences each live table (store leases with fencing epochs,
``LeaseKeeper``); ``Bus`` carries submissions to that process and its published batches to the
others. Both know the store port and JSON, nothing of the server: the server's composition root
wires them to its tables (``crowdfill.server.cluster_node``). See docs/deploy.md.
"""

from __future__ import annotations

from crowdfill.cluster.bus import Bus, BusError, Unreachable
from crowdfill.cluster.lease_keeper import LeaseKeeper
from crowdfill.cluster.ownership import Member, Ownership

__all__ = ["Bus", "BusError", "LeaseKeeper", "Member", "Ownership", "Unreachable"]
