"""The compensation package is pure and deterministic: no I/O, no clock, no randomness, and the same
cents whatever Python's string hashing does to set and dict order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import crowdfill.compensation
from tests.support.imports import imported_modules

PACKAGE = Path(crowdfill.compensation.__file__).parent
ALLOWED_STDLIB = {"__future__", "collections", "dataclasses", "fractions", "math", "types", "typing"}

SCRIPT = """
import json, random
from crowdfill.compensation import CompensationSettings, Estimator, settle
from tests.compensation.histories import play
from tests.compensation.worked_example import SETTINGS, doc_text, log_block, parse_log, run
table, log, estimator = run(parse_log(log_block(doc_text())))
out = [settle(table, log, SETTINGS, completed=True).to_dict()]
out.append([estimator.estimate(w) for w in ("alice", "carol")])
rng = random.Random(3)
for _ in range(20):
    actions = [tuple(rng.randrange(n) for n in (8, 201, 21, 6, 10)) for _ in range(100)]
    history = play(rng.randrange(5), rng.randrange(3), actions)
    settings = CompensationSettings(10**6 + 7, growth=1.3, vote_share=0.3)
    for completed in (False, True):
        out.append(settle(history.table, history.log, settings, completed=completed).to_dict())
print(json.dumps(out, sort_keys=True))
"""


def test_the_package_imports_only_pure_standard_modules_the_model_and_itself() -> None:
    offenders = [
        f"{path.name}: {module}"
        for path in sorted(PACKAGE.glob("*.py"))
        for module in imported_modules(path)
        if not module.startswith(("crowdfill.model", "crowdfill.compensation"))
        and module.split(".")[0] not in ALLOWED_STDLIB
    ]
    assert offenders == []


def test_settlements_are_identical_under_different_hash_seeds() -> None:
    root = Path(__file__).resolve().parents[2]
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, env=env, cwd=root
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
