"""The central client's cost of keeping the Probable Rows Invariant, per operation.

For each size (template rows x candidate rows): a SoccerPlayer table is filled with candidate rows
and votes, the central client is started and its inserts applied, then a stream of random worker
operations (upvotes, downvotes, fills) is applied. After each one we time:

- **incremental**: ``CentralClient.observe`` on the operation's events, plus ``observe`` on the
  events of the inserts it asks for (applying the inserts is the table's cost, not timed);
- **recompute** (the baseline, measured in the same run at evenly spread operations): rebuild the
  template-row / key-group graph from the table and run networkx's Hopcroft-Karp on it, which is
  what a client without incremental upkeep would do after every operation. ``hk_only`` is the
  Hopcroft-Karp part alone (the graph built outside the timer).

A third of the operations target rows of the groups that currently serve template rows, so
matched rows lose their status and template rows must be re-matched or get new inserts. The
template mixes key-fixing rows (``{name, nationality}``, most served by an existing player,
some not, and some behind a wrong green row), ``{nationality, position}`` rows and
``{nationality}`` rows, with repeats. Figures: median and p99 per operation in microseconds of
the thread's CPU time (``time.thread_time``), so that other processes on a shared machine do not
show up as scheduler-tick outliers; wall-clock figures for the incremental side are printed too.
The cyclic garbage collector is frozen after setup (the table is long-lived), as a server would.

Usage: ``python bench/pri.py [--quick] [--ops N] [--baseline-samples N] [--seed N]``. The last
line printed is one JSON object with the figures and the ratios (recompute / incremental).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import statistics
import time
from dataclasses import dataclass

from crowdfill.central_client import CentralClient
from crowdfill.central_client.recompute import maximum_matching, probable_graph
from crowdfill.central_client.template_index import TemplateIndex
from crowdfill.model import (
    CandidateTable,
    CrowdFillError,
    Downvote,
    Event,
    Fill,
    GroupKey,
    Insert,
    Operation,
    Row,
    Template,
    Upvote,
    Value,
)
from crowdfill.model.examples import POSITIONS, SOCCER_PLAYER

NATIONALITIES = tuple(f"country{i:03d}" for i in range(200))


@dataclass(frozen=True)
class Size:
    template_rows: int
    candidate_rows: int

    @property
    def label(self) -> str:
        return f"{self.template_rows // 1000}k/{self.candidate_rows // 1000}k"


@dataclass(frozen=True)
class Figures:
    size: Size
    incremental_us: list[float]
    incremental_wall_us: list[float]
    recompute_us: list[float]
    hk_only_us: list[float]
    inserts_at_start: int
    inserts_during_run: int
    setup_s: float

    def as_dict(self) -> dict[str, object]:
        inc_median = statistics.median(self.incremental_us)
        rec_median = statistics.median(self.recompute_us)
        hk_median = statistics.median(self.hk_only_us)
        return {
            "template_rows": self.size.template_rows,
            "candidate_rows": self.size.candidate_rows,
            "operations": len(self.incremental_us),
            "incremental_median_us": round(inc_median, 1),
            "incremental_p99_us": round(percentile(self.incremental_us, 99), 1),
            "incremental_wall_median_us": round(statistics.median(self.incremental_wall_us), 1),
            "incremental_wall_p99_us": round(percentile(self.incremental_wall_us, 99), 1),
            "recompute_samples": len(self.recompute_us),
            "recompute_median_us": round(rec_median, 1),
            "recompute_p99_us": round(percentile(self.recompute_us, 99), 1),
            "hk_only_median_us": round(hk_median, 1),
            "ratio": round(rec_median / inc_median, 1),
            "ratio_hk_only": round(hk_median / inc_median, 1),
            "inserts_at_start": self.inserts_at_start,
            "inserts_during_run": self.inserts_during_run,
            "setup_s": round(self.setup_s, 1),
        }


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def player(i: int, rng: random.Random) -> dict[str, Value]:
    return {
        "name": f"player{i}",
        "nationality": rng.choice(NATIONALITIES),
        "position": rng.choice(POSITIONS),
        "caps": rng.randrange(200),
        "goals": rng.randrange(100),
    }


def build_table(size: Size, rng: random.Random) -> tuple[CandidateTable, list[dict[str, Value]]]:
    players = [player(i, rng) for i in range(size.candidate_rows)]
    rows: list[dict[str, object]] = []
    key_fixing = size.template_rows * 7 // 10
    for i in range(key_fixing):
        if i % 10 == 9:  # a player nobody has entered yet: the client inserts it
            rows.append({"name": f"newcomer{i}", "nationality": rng.choice(NATIONALITIES)})
        else:
            known = players[i * (size.candidate_rows // key_fixing)]
            rows.append({"name": known["name"], "nationality": known["nationality"]})
    for i in range(size.template_rows - key_fixing):
        nationality = NATIONALITIES[rng.randrange(len(NATIONALITIES))]
        if i % 5 == 0:
            rows.append({"nationality": nationality})
        else:
            rows.append({"nationality": nationality, "position": rng.choice(POSITIONS)})
    template = Template.define(SOCCER_PLAYER, rows)
    return CandidateTable(SOCCER_PLAYER, template=template), players


def seed_rows(table: CandidateTable, players: list[dict[str, Value]], rng: random.Random) -> None:
    """Every player as a row (one in ten partial), with 0-3 upvotes and sometimes a downvote."""
    workers = itertools.count()
    for i, values in enumerate(players):
        if i % 10 == 3:
            values = {k: v for k, v in values.items() if k != "goals"}
        row_id = f"s{i}"
        table.apply(Insert(row_id, SOCCER_PLAYER.normalise_values(values), worker="seed"))
        if len(values) < len(SOCCER_PLAYER.columns):
            continue
        for _ in range(rng.choice((0, 1, 2, 2, 3))):
            table.apply(Upvote(f"seed{next(workers)}", row_id, frozenset()))
        if rng.random() < 0.1:
            table.apply(Downvote(f"seed{next(workers)}", row_id, frozenset()))
        if rng.random() < 0.02:  # a wrong row in the same key group, voted above the right one
            wrong = {**values, "position": rng.choice([p for p in POSITIONS if p != values["position"]])}
            wrong_id = f"s{i}w"
            table.apply(Insert(wrong_id, SOCCER_PLAYER.normalise_values(wrong), worker="seed"))
            for _ in range(4):
                table.apply(Upvote(f"seed{next(workers)}", wrong_id, frozenset()))


class Worker:
    """Random worker operations against the live table; a third target rows that serve the template."""

    def __init__(self, table: CandidateTable, client: CentralClient, rng: random.Random) -> None:
        self.table = table
        self.client = client
        self.rng = rng
        self.ids = itertools.count()
        self.workers = itertools.count()
        self.live: list[Row] = table.rows()
        self.serving: list[GroupKey] = []

    def next_operation(self, step: int) -> Operation:
        if step % 100 == 0:
            self.serving = sorted(set(self.client.matching().values()), key=repr)
        row = self.live[self.rng.randrange(len(self.live))]
        if self.serving and self.rng.random() < 0.33:
            group_rows = self.table.group_rows(self.serving[self.rng.randrange(len(self.serving))])
            if group_rows:
                row = group_rows[self.rng.randrange(len(group_rows))]
        worker = f"bench{next(self.workers)}"
        complete = SOCCER_PLAYER.is_complete(row.values)
        roll = self.rng.random()
        if not complete:
            return Fill(
                worker, row.row_id, f"b{next(self.ids)}", "goals", self.rng.randrange(100), frozenset()
            )
        if roll < 0.6:
            return Upvote(worker, row.row_id, frozenset())
        return Downvote(worker, row.row_id, frozenset())

    def note(self, events: list[Event]) -> None:
        for event in events:
            new = getattr(event, "row", None)
            if isinstance(new, Row):
                self.live.append(new)


def run(size: Size, operations: int, baseline_samples: int, seed: int) -> Figures:
    rng = random.Random(seed)
    began = time.perf_counter()
    table, players = build_table(size, rng)
    seed_rows(table, players, rng)
    ids = (f"c{i}" for i in itertools.count())
    client = CentralClient(table, lambda: next(ids), close_when_satisfied=False)
    start_inserts = client.start()
    for insert in start_inserts:
        client.observe(table.apply(insert))
    setup_s = time.perf_counter() - began
    index = TemplateIndex(table.schema, table.template)
    # The table and the client's state live for the whole run; keep the collector from rescanning them.
    gc.collect()
    gc.freeze()
    try:
        worker = Worker(table, client, rng)
        incremental: list[float] = []
        incremental_wall: list[float] = []
        recompute: list[float] = []
        hk_only: list[float] = []
        every = max(1, operations // max(1, baseline_samples))
        done = 0
        while done < operations:
            op = worker.next_operation(done)
            try:
                events = table.apply(op)
            except CrowdFillError:
                continue  # e.g. a downvote on template values: refused, nothing to keep up
            worker.note(events)
            elapsed = wall = 0.0
            pending = [events]
            while pending:
                batch = pending.pop()
                t0, w0 = time.thread_time(), time.perf_counter()
                inserts = client.observe(batch)
                elapsed += time.thread_time() - t0
                wall += time.perf_counter() - w0
                for insert in inserts:
                    applied = table.apply(insert)
                    worker.note(applied)
                    pending.append(applied)
            incremental.append(elapsed * 1e6)
            incremental_wall.append(wall * 1e6)
            if done % every == 0 and len(recompute) < baseline_samples:
                t0 = time.thread_time()
                graph = probable_graph(table, index)
                t1 = time.thread_time()
                matched = maximum_matching(graph)
                t2 = time.thread_time()
                recompute.append((t2 - t0) * 1e6)
                hk_only.append((t2 - t1) * 1e6)
                assert len(matched) == len(client.matching()), "the incremental matching must be maximum"
            done += 1
        return Figures(
            size,
            incremental,
            incremental_wall,
            recompute,
            hk_only,
            len(start_inserts),
            client.inserted_count - len(start_inserts),
            setup_s,
        )
    finally:
        gc.unfreeze()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, runs in seconds")
    parser.add_argument("--ops", type=int, default=None, help="worker operations per size")
    parser.add_argument("--baseline-samples", type=int, default=None, help="recomputations per size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        sizes = [Size(1_000, 10_000)]
        ops, samples = args.ops or 300, args.baseline_samples or 3
    else:
        sizes = [Size(t, c) for t in (1_000, 10_000) for c in (10_000, 100_000)]
        ops, samples = args.ops or 3_000, args.baseline_samples or 5
    results = []
    for size in sizes:
        figures = run(size, ops, samples, args.seed).as_dict()
        results.append(figures)
        print(
            f"{size.label:>9}: incremental median {figures['incremental_median_us']} us, "
            f"p99 {figures['incremental_p99_us']} us (wall clock: median "
            f"{figures['incremental_wall_median_us']} us, p99 {figures['incremental_wall_p99_us']} us); "
            f"recompute median {figures['recompute_median_us']} us "
            f"(Hopcroft-Karp alone {figures['hk_only_median_us']} us); ratio {figures['ratio']}x "
            f"({figures['ratio_hk_only']}x vs Hopcroft-Karp alone); inserts {figures['inserts_at_start']} "
            f"at start, {figures['inserts_during_run']} during the run; setup {figures['setup_s']} s",
            flush=True,
        )
    headline = results[-1]
    print(
        json.dumps(
            {
                "benchmark": "pri",
                "quick": args.quick,
                "ratio": headline["ratio"],
                "ratio_hk_only": headline["ratio_hk_only"],
                "incremental_median_us": headline["incremental_median_us"],
                "incremental_p99_us": headline["incremental_p99_us"],
                "sizes": results,
            }
        )
    )


if __name__ == "__main__":
    main()
