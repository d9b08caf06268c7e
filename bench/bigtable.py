"""A fast loader: a live table of N logged operations in a store, built without a server.

The operations are what a real collection logs: the central client's inserts (for a template of
many empty rows), workers' fills of empty cells (a share of them concurrent, filling a row another
worker just replaced, which duplicates it), upvotes and downvotes of complete rows and a few
retracts. Each one goes through the model exactly as the server sequences it (``Sequencer``:
validate, integrate, then the central client's inserts), so the log replays cleanly; the records
are written through the store's ``append`` in large batches (one transaction each) instead of one
commit per operation. The table stays live: a template row asks for ``c0 = "never"``, a value no
simulated worker completes, so it never completes however long the log grows.

Other benchmarks import ``build_table(data_dir, ops, seed)`` (the SQLite store ``crowdfill serve
--data-dir`` opens); ``build_table_async`` takes any open store. Usage:
``python bench/bigtable.py [DATA_DIR] [--ops N] [--seed S] [--quick]``; the last line printed is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from crowdfill.central_client import CentralClient
from crowdfill.central_client.sequencer import Sequencer
from crowdfill.model import CandidateTable, CrowdFillError, Fill, Insert, Sequenced
from crowdfill.model.codec import sequenced_to_wire
from crowdfill.model.operations import Downvote, Retract, Upvote
from crowdfill.model.values import Value
from crowdfill.server.definition import TableSpec, build_spec
from crowdfill.store import LogRecord, TableRecord
from crowdfill.store.factory import open_store
from crowdfill.store.port import Store
from crowdfill.wire.definition import DefinitionModel

COLUMNS = ("c0", "c1", "c2", "c3")
NEVER = "never"
WORKERS = 300
BATCH = 5000  # records per append: one transaction each
# Shares of worker operations (the rest are upvotes).
FILL, DOWNVOTE, RETRACT = 0.5, 0.1, 0.02
CONCURRENT_FILL = 0.12  # of fills: fill a row someone else replaced a moment ago
VALUES_PER_COLUMN = 40  # small domains: the same complete rows recur, as in a real collection
START = 1_700_000_000.0
MAX_TEMPLATE_ROWS = 10_000  # what crowdfill.wire.definition accepts


def definition(ops: int) -> DefinitionModel:
    """A four-column table whose template asks for one empty row per 20 operations (and a never row).

    Capped at the longest template a definition may have; concurrent fills keep adding rows beyond it.
    """
    rows = min(MAX_TEMPLATE_ROWS - 1, max(10, ops // 20))
    return DefinitionModel.model_validate(
        {
            "name": f"big table ({ops} operations)",
            "schema": {"columns": [{"name": c} for c in COLUMNS]},
            # Threshold, as in the figures of docs/benchmarks.md (the default is reputation).
            "scoring": {"family": "threshold", "min_votes": 2},
            "template": [{"c0": NEVER}, *({} for _ in range(rows))],
            "budget_cents": 100_000,
            "rate_limit": {"ops_per_second": 1000, "burst": 1000},
        }
    )


def table_id_for(ops: int, seed: int) -> str:
    return f"big-{ops}-s{seed}"


class _Collection:
    """The simulated crowd: a light replica of the live rows to choose valid operations from."""

    def __init__(self, spec: TableSpec, seed: int) -> None:
        self.random = random.Random(seed)
        self.table = CandidateTable(spec.schema, spec.scoring, spec.template)
        self._ids = 0
        self.central = CentralClient(self.table, self._central_id, close_when_satisfied=False)
        self.sequencer = Sequencer(self.table, self.central)
        self.incomplete: list[str] = []  # live rows with an empty cell (swap-removed, order unimportant)
        self.complete: list[str] = []
        self.replaced: list[str] = []  # recently replaced rows, for concurrent fills
        self.votes: list[tuple[str, str, str]] = []  # (worker, row id, kind) cast, for retracts
        self.values: dict[str, dict[str, Value]] = {}
        self.position: dict[str, int] = {}  # row id -> its index in incomplete or complete
        self.sequencer.start()

    def _central_id(self) -> str:
        self._ids += 1
        return f"c{self._ids:08x}"

    def _fresh_id(self) -> str:
        self._ids += 1
        return f"w{self._ids:08x}"

    def pending(self) -> Sequenced | None:
        """The central client's next insert, applied; None when it needs nothing now."""
        insert = self.sequencer.next_insert()
        if insert is None:
            return None
        op = self.sequencer.apply(insert)
        assert isinstance(op, Insert)
        self._add(op.row_id, dict(op.values))
        return op

    def worker_op(self) -> Sequenced | None:
        """One worker operation the model accepts, applied; None if the chosen one was refused."""
        r = self.random.random()
        worker = f"w{self.random.randrange(WORKERS)}"
        try:
            if r < FILL or not self.complete:
                return self._fill(worker)
            if r < FILL + DOWNVOTE:
                return self._vote(worker, Downvote(worker, self.random.choice(self.complete), frozenset()))
            if r < FILL + DOWNVOTE + RETRACT and self.votes:
                return self._retract()
            return self._vote(worker, Upvote(worker, self.random.choice(self.complete), frozenset()))
        except CrowdFillError:
            return None

    def _fill(self, worker: str) -> Sequenced | None:
        concurrent = self.replaced and self.random.random() < CONCURRENT_FILL
        if concurrent:
            row_id = self.random.choice(self.replaced)
        elif self.incomplete:
            row_id = self.incomplete[self.random.randrange(len(self.incomplete))]
        else:
            return None
        present = self.values[row_id]
        if present.get("c0") == NEVER:
            return None  # nobody completes the never row: the table stays live
        empty = [c for c in COLUMNS if c not in present]
        if not empty:
            return None
        column = self.random.choice(empty)
        value = f"v{self.random.randrange(VALUES_PER_COLUMN)}"
        op = self.sequencer.apply(Fill(worker, row_id, self._fresh_id(), column, value, frozenset()))
        assert isinstance(op, Fill)
        if not concurrent:
            self._drop(row_id)
            self.replaced.append(row_id)
            if len(self.replaced) > 200:
                self.replaced.pop(0)
        self._add(op.new_row_id, dict(op.values))
        return op

    def _vote(self, worker: str, op: Upvote | Downvote) -> Sequenced:
        applied = self.sequencer.apply(op)
        self.votes.append((worker, op.row_id, "up" if isinstance(op, Upvote) else "down"))
        if len(self.votes) > 5000:
            self.votes.pop(self.random.randrange(len(self.votes)))
        return applied

    def _retract(self) -> Sequenced:
        worker, row_id, kind = self.votes.pop(self.random.randrange(len(self.votes)))
        return self.sequencer.apply(Retract(worker, row_id, frozenset(), "up" if kind == "up" else "down"))

    def _add(self, row_id: str, values: dict[str, Value]) -> None:
        self.values[row_id] = values
        rows = self.complete if len(values) == len(COLUMNS) else self.incomplete
        self.position[row_id] = len(rows)
        rows.append(row_id)

    def _drop(self, row_id: str) -> None:
        values = self.values[row_id]
        rows = self.complete if len(values) == len(COLUMNS) else self.incomplete
        index = self.position.pop(row_id)
        last = rows.pop()
        if last != row_id:
            rows[index] = last
            self.position[last] = index


async def build_table_async(store: Store, ops: int, seed: int = 0) -> str:
    """Create a live table holding ``ops`` logged operations in the open ``store``; return its id."""
    if ops < 1:
        raise ValueError(f"a big table needs at least one operation, got {ops}")
    spec = build_spec(definition(ops))
    table_id = table_id_for(ops, seed)
    await store.create_table(TableRecord(table_id, spec.definition, "live", START, START))
    crowd = _Collection(spec, seed)
    batch: list[LogRecord] = []
    seq = 0
    misses = 0
    while seq < ops:
        op = crowd.pending() or crowd.worker_op()
        if op is None:
            misses += 1
            if misses > 100_000:
                raise RuntimeError(f"the simulated crowd found nothing valid to do after {seq} operations")
            continue
        misses = 0
        seq += 1
        batch.append(LogRecord(seq, sequenced_to_wire(op), START + seq * 0.01))
        if len(batch) >= BATCH:
            await store.append(table_id, batch)
            batch = []
    if batch:
        await store.append(table_id, batch)
    return table_id


def build_table(data_dir: Path, ops: int, seed: int = 0) -> str:
    """Build the table in the SQLite store of ``data_dir`` (as ``crowdfill serve --data-dir``); its id."""

    async def run() -> str:
        store = open_store(None, Path(data_dir))
        await store.open()
        try:
            return await build_table_async(store, ops, seed)
        finally:
            await store.close()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "data_dir", type=Path, nargs="?", help="the data directory (default: a temporary one, removed after)"
    )
    parser.add_argument("--ops", type=int, default=None, help="logged operations (default 100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="10,000 operations (make bench)")
    args = parser.parse_args()
    ops = args.ops or (10_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="crowdfill-bigtable-") as scratch:
        started = time.perf_counter()
        table_id = build_table(args.data_dir or Path(scratch), ops, args.seed)
        elapsed = time.perf_counter() - started
    print(
        json.dumps({"benchmark": "bigtable", "table_id": table_id, "ops": ops, "build_s": round(elapsed, 2)})
    )


if __name__ == "__main__":
    main()
