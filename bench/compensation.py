"""Compensation at scale: final payments for a long log, and the cost of a live-estimate refresh.

A simulated crowd fills a SoccerPlayer-like table (``--ops`` operations, about ``--rows`` live
candidate rows at the end: each row is inserted, filled column by column, sometimes forked by a
concurrent fill or challenged by a rival with the same key, and voted on). Measured in the run:

- ``settle`` on the whole log, against the baseline of replaying the same log into a fresh table
  (what any consumer of the log pays at least once);
- an estimate refresh per operation (``Estimator.observe(op)`` then ``estimate(op.worker)``):
  median and p99 over every operation of the log, in thread CPU time (other processes on the
  machine do not inflate it); the p99 is also given without the refreshes during which Python's
  cyclic garbage collector ran (it walks the whole heap: the table, the log, not the estimator);
- the naive alternative, a full recomputation of the estimates from the log for every operation
  (a fresh ``Estimator`` with the history so far), on the first ``--naive-ops`` operations, against
  the incremental refresh on the same prefix.

Usage: ``python bench/compensation.py [--quick] [--ops N] [--rows N] [--seed S]``. The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field

from crowdfill.compensation import CompensationSettings, Estimator, settle
from crowdfill.model import (
    CandidateTable,
    CrowdFillError,
    Downvote,
    Fill,
    Insert,
    Operation,
    Template,
    Upvote,
    Value,
)
from crowdfill.model.examples import SOCCER_PLAYER

COUNTRIES = tuple(f"country{n:02d}" for n in range(40))
POSITIONS = ("GK", "DF", "MF", "FW")
FILL_OPS_PER_ROW = 5


@dataclass
class Chain:
    """One row being worked on: its current row id, the values it will get, the votes left."""

    row_id: str
    target: dict[str, Value]
    votes_left: int
    voted: set[str] = field(default_factory=set)


class Crowd:
    """Generates a valid log by applying every operation to a live table, as the server would."""

    def __init__(self, ops: int, rows: int, workers: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ops = ops
        self.rows = rows
        self.workers = [f"w{n:04d}" for n in range(workers)]
        template_rows: list[dict[str, object]] = [{"nationality": c} for c in COUNTRIES[:20]]
        self.table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, template_rows))
        self.log: list[Operation] = []
        self.votes_per_row = max(0, (ops - rows * (1 + FILL_OPS_PER_ROW)) // max(rows, 1))
        self.active: list[Chain] = []
        self.inserted = 0
        self.next_id = 0
        self.used_keys: list[tuple[str, str]] = []

    def fresh_id(self) -> str:
        self.next_id += 1
        return f"r{self.next_id}"

    def target(self) -> dict[str, Value]:
        rng = self.rng
        if self.used_keys and rng.random() < 0.05:  # a rival: same player, different details
            name, nationality = rng.choice(self.used_keys[-500:])
        else:
            name, nationality = f"player{len(self.used_keys)}", rng.choice(COUNTRIES)
            self.used_keys.append((name, nationality))
        return {
            "name": name,
            "nationality": nationality,
            "position": rng.choice(POSITIONS),
            "caps": rng.randrange(200),
            "goals": rng.randrange(100),
        }

    def operations(self) -> list[tuple[Operation, str]]:
        """The operations to try next (the first that the table accepts is taken)."""
        rng = self.rng
        if not self.active or (len(self.active) < 64 and self.inserted < self.rows):
            row_id = self.fresh_id()
            self.inserted += 1
            self.active.append(Chain(row_id, self.target(), self.votes_per_row + rng.randrange(-1, 2)))
            return [(Insert(row_id, frozenset()), "central")]
        chain = rng.choice(self.active)
        present = dict(self.table.row(chain.row_id).values) if chain.row_id in self.table else {}
        missing = [c for c in SOCCER_PLAYER.names if c not in present]
        worker = rng.choice(self.workers)
        if missing:
            column = missing[0] if rng.random() < 0.8 else rng.choice(missing)
            new_id = self.fresh_id()
            return [(Fill(worker, chain.row_id, new_id, column, chain.target[column], frozenset()), new_id)]
        if chain.votes_left <= 0:
            self.active.remove(chain)
            return []
        chain.votes_left -= 1
        kind = Downvote if rng.random() < 0.08 else Upvote
        return [(kind(rng.choice(self.workers), chain.row_id, frozenset()), "") for _ in range(3)]

    def step(self) -> Operation | None:
        for op, new_id in self.operations():
            try:
                canonical = self.table.validate(op)
            except CrowdFillError:
                continue
            self.table.integrate(canonical)
            self.log.append(canonical)
            if isinstance(canonical, Fill):
                self.follow(canonical, new_id)
            return canonical
        return None

    def follow(self, fill: Fill, new_id: str) -> None:
        for chain in self.active:
            if chain.row_id == fill.row_id:
                if self.rng.random() < 0.02:  # a concurrent fill of the same row: a second row
                    twin = Chain(fill.row_id, dict(chain.target), chain.votes_left)
                    twin.target[fill.column] = fill.value
                    self.active.append(twin)
                    return
                chain.row_id = new_id
                return


def percentile(samples: list[int], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def run(ops: int, rows: int, workers: int, seed: int, naive_ops: int) -> dict[str, object]:
    settings = CompensationSettings(budget_cents=100_000_000, growth=1.00002, vote_share=0.2)
    crowd = Crowd(ops, rows, workers, seed)
    estimator = Estimator(crowd.table, settings)
    refresh_ns: list[int] = []
    quiet_ns: list[int] = []
    collections = [0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections[0] += 1

    gc.callbacks.append(on_gc)
    started = time.perf_counter()
    clock = time.thread_time_ns
    while len(crowd.log) < ops:
        op = crowd.step()
        if op is None:
            continue
        seen = collections[0]
        begin = clock()
        estimator.observe(op)
        estimator.estimate(op.worker)
        spent = clock() - begin
        refresh_ns.append(spent)
        if collections[0] == seen:
            quiet_ns.append(spent)
        if len(crowd.log) % 100_000 == 0:
            print(f"  {len(crowd.log)} ops generated, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    generation_s = time.perf_counter() - started
    gc.callbacks.remove(on_gc)
    table, log = crowd.table, crowd.log

    begin_s = time.perf_counter()
    replayed = CandidateTable(table.schema, table.scoring, table.template)
    for op in log:
        replayed.integrate(op)
    replay_s = time.perf_counter() - begin_s

    begin_s = time.perf_counter()
    settlement = settle(table, log, settings, completed=True)
    settle_s = time.perf_counter() - begin_s
    assert settle(replayed, log, settings, completed=True).payments == settlement.payments

    incremental, naive = naive_comparison(log[:naive_ops], table, settings)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "bench": "compensation",
        "ops": len(log),
        "live_rows": len(table),
        "rows_made": sum(1 for op in log if isinstance(op, Insert | Fill)),
        "final_rows": len(settlement.rows),
        "workers": len(settlement.payments),
        "paid_cents": settlement.paid_cents,
        "unpaid_cents": settlement.unpaid_cents,
        "generation_s": round(generation_s, 2),
        "settle_s": round(settle_s, 3),
        "replay_s": round(replay_s, 3),
        "settle_over_replay": round(settle_s / replay_s, 3),
        "refresh_us_median": percentile(refresh_ns, 0.5),
        "refresh_us_p99": percentile(refresh_ns, 0.99),
        "refresh_us_max": max(refresh_ns) / 1000,
        "refresh_us_p99_without_gc": percentile(quiet_ns, 0.99),
        "refreshes_with_gc": len(refresh_ns) - len(quiet_ns),
        "naive_ops": len(log[:naive_ops]),
        "naive_refresh_us_median": naive,
        "incremental_refresh_us_median_same_prefix": incremental,
        "ratio": round(naive / incremental, 1) if incremental else None,
        "peak_rss_mb": round(peak_mb, 1),
    }


def naive_comparison(
    prefix: list[Operation], table: CandidateTable, settings: CompensationSettings
) -> tuple[float, float]:
    """Median refresh (µs) on the prefix: incremental vs a full recomputation from the log."""
    fresh = CandidateTable(table.schema, table.scoring, table.template)
    estimator = Estimator(fresh, settings)
    incremental: list[int] = []
    naive: list[int] = []
    clock = time.thread_time_ns
    for index, op in enumerate(prefix):
        fresh.integrate(op)
        begin = clock()
        estimator.observe(op)
        estimator.estimate(op.worker)
        incremental.append(clock() - begin)
        if index % 10 == 9:  # sample: each naive refresh is linear in the history
            begin = clock()
            Estimator(fresh, settings, history=prefix[: index + 1]).estimate(op.worker)
            naive.append(clock() - begin)
    return statistics.median(incremental) / 1000, statistics.median(naive) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small log: a few seconds")
    parser.add_argument("--ops", type=int, default=None, help="operations in the log (default 1,000,000)")
    parser.add_argument("--rows", type=int, default=None, help="rows the crowd inserts (default 100,000)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--naive-ops", type=int, default=None)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    ops = args.ops or (20_000 if args.quick else 1_000_000)
    rows = args.rows or max(1, ops // 10)
    workers = args.workers or (50 if args.quick else 1000)
    naive_ops = args.naive_ops or (1000 if args.quick else 3000)
    print(json.dumps(run(ops, rows, workers, args.seed, naive_ops)))


if __name__ == "__main__":
    main()
