"""The simulator's defaults that the command line reads without importing a whole run.

``DEFAULT_SIMULATION_SCORING``: votes weighted by the voters' estimated reliability, a row final
once its upvoters weigh 3 (measured against today's threshold scoring by bench/quality.py;
docs/quality.md); the server defaults to the same (``crowdfill.wire.definition.ScoringModel``).
"""

from __future__ import annotations

from crowdfill.model import Scoring
from crowdfill.model.scoring import DEFAULT_MIN_VOTES

DEFAULT_SIMULATION_SCORING = Scoring("reputation", DEFAULT_MIN_VOTES["reputation"])
