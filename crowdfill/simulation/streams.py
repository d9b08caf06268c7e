"""Named random streams derived from a run's seed.

Each part of a run (the truth, the template, the crowd, every worker, the clock, the baseline)
draws from its own ``random.Random``, so changing one part does not shift the draws of the others,
and a seed fixes the whole run. String seeds are hashed the same way on every platform and run.
"""

from __future__ import annotations

import random


def stream(seed: int, name: str) -> random.Random:
    return random.Random(f"{seed}:{name}")  # noqa: S311  # simulation draws, not cryptography
