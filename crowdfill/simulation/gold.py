"""Gold rows for the simulated collection: complete rows whose verdict the requester knows.

Drawn from truth rows whose key no template row asks for (so they never serve a template row);
every other one has one non-key cell made wrong, so half the gold rows are right and half wrong.
The run inserts them as ordinary rows, judges votes on them with ``crowdfill.quality``, and leaves
them out of the measured final table.
"""

from __future__ import annotations

import random

from crowdfill.model import Template, Values
from crowdfill.simulation.crowd import mistake
from crowdfill.simulation.truth import Truth


def make_gold(truth: Truth, template: Template, count: int, rng: random.Random) -> dict[Values, bool]:
    schema = truth.schema
    asked = {schema.key_of(row) for row in template.rows} - {None}
    candidates = [row for row in truth.rows if schema.key_of(row) not in asked]
    if count > len(candidates):
        raise ValueError(f"--gold {count}: only {len(candidates)} truth rows are outside the template")
    others = [name for name in schema.names if name not in schema.key]
    gold: dict[Values, bool] = {}
    for number, row in enumerate(rng.sample(candidates, count)):
        if number % 2 == 0 or not others:
            gold[row] = True
            continue
        name = rng.choice(others)
        right = dict(row)[name]
        wrong = mistake(schema.column(name), right, truth, rng)
        gold[(row - {(name, right)}) | {(name, wrong)}] = False
    return gold
