"""The cost of checking a value against a column pattern, per check.

For a few patterns (ordinary ones a requester would write, and pathological ones that make a
backtracking engine take exponential time) and value lengths up to the text limit, time
``Pattern.matches`` in microseconds of the thread's CPU time (median of the repetitions), and
report the worst case: a pattern that hits the step budget, i.e. the longest any check can take
before it is refused with ``pattern_too_costly``.

The baseline, measured in the same run, is Python's backtracking ``re.fullmatch`` (what a server
without its own engine would use): on the ordinary cases with the same value, on the catastrophic
ones with a value short enough (18 characters) for it to finish at all.

Usage: ``python bench/pattern.py [--quick]``. The last line printed is one JSON object with the
figures.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable

from crowdfill.model.errors import PatternTooCostly
from crowdfill.model.pattern import compile_pattern

ORDINARY = [
    ("airport code", "[A-Z]{3}", "CDG"),
    ("name words", "[A-Z][a-z]*(?: [A-Z][a-z]*)*", "Jean Pierre " * 83),
    ("email-ish", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "a" * 990 + "@example.org"),
]
CATASTROPHIC = [
    ("catastrophic (a+)+", "(a+)+", "a" * 999 + "!"),
    ("catastrophic (a|a)*b", "(a|a)*b", "a" * 1000),
]
BUDGET = ("budget hit (?:a*){100}", "(?:a*){100}", "a" * 1000)
SHORT = 18


def _median_us(check: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.thread_time()
        check()
        samples.append(time.thread_time() - start)
    return statistics.median(samples) * 1e6


def _ours(pattern: str, value: str) -> Callable[[], str]:
    compiled = compile_pattern(pattern)

    def check() -> str:
        try:
            return str(compiled.matches(value))
        except PatternTooCostly:
            return "pattern_too_costly"

    return check


def _theirs(pattern: str, value: str) -> Callable[[], object]:
    compiled = re.compile(pattern)
    return lambda: compiled.fullmatch(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    figures: dict[str, dict[str, object]] = {}
    for label, pattern, value in ORDINARY:
        ours = _median_us(_ours(pattern, value), repeats)
        theirs = _median_us(_theirs(pattern, value), repeats)
        figures[label] = {
            "length": len(value),
            "median_us": round(ours),
            "re_us": round(theirs, 1),
            "ratio_vs_re": round(ours / max(theirs, 0.1), 1),
        }
    for label, pattern, value in CATASTROPHIC:
        short = value[: SHORT - 1] + value[-1]
        ours = _median_us(_ours(pattern, value), repeats)
        ours_short = _median_us(_ours(pattern, short), repeats)
        theirs_short = _median_us(_theirs(pattern, short), max(1, repeats // 3))
        figures[label] = {
            "length": len(value),
            "median_us": round(ours),
            "short_length": SHORT,
            "short_us": round(ours_short),
            "re_short_us": round(theirs_short),
            "ratio_re_vs_ours_short": round(theirs_short / max(ours_short, 0.1), 1),
        }
    label, pattern, value = BUDGET
    figures[label] = {
        "length": len(value),
        "median_us": round(_median_us(_ours(pattern, value), repeats)),
        "outcome": _ours(pattern, value)(),
    }
    for name, row in figures.items():
        print(f"{name:28} {row}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
