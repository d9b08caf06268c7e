"""CrowdFill simulation (DESIGN §7; docs/simulation.md): dry-run a collection with a simulated crowd.

- ``truth``: the ground truth (CSV or generated) and template specs; ``crowd``: who knows what, how
  accurately; ``behaviour``: what a worker does next, from the table they see.
- ``engine``: the in-process mode (event queue, simulated clock, deterministic under a seed);
  ``browser``, ``rest``, ``socket_mode``: the same crowd against a running server.
- ``baseline``: the microtask design on the same crowd; ``quality``, ``figures``, ``report``: the
  figures and their rendering; ``simulate``: a whole run; ``cli``: ``crowdfill simulate``.

Nothing is imported here, so ``crowdfill --help`` stays light.
"""

from __future__ import annotations
