"""Several processes: 1 vs 3 ``crowdfill serve`` on one PostgreSQL (and Redis), then a failover.

Load (the N=50 workload of ``bench/load.py``, its worker clients): the same table and client load
against

- ``1proc``: one ``crowdfill serve`` on PostgreSQL (the single-process default, no Redis);
- ``3proc``: three ``crowdfill serve --redis-url`` on the same PostgreSQL, the client processes
  spread over them (one process sequences the table; the others forward submissions to it and
  replay its batches for their clients),

interleaved 1proc, 3proc, 1proc, 3proc (one of each with ``--quick``), each run on a fresh
database. Reported per mode: the medians over its runs of acknowledged ops/s, ack latency and
fill-to-seen-by-others latency (p50, p99), and the ratio 3proc/1proc of the seen p99.

Failover: three processes, workers in this process spread over them filling and voting; the
process holding the table's lease is killed with SIGKILL mid-load. ``failover_s`` is the time from
the kill to the first acknowledgement of an operation sequenced after it (by the new owner), and
``lost_acked`` the acknowledged operations missing from (or changed in) the log afterwards.

Usage: ``python bench/cluster.py [--quick] [--workers N] [--duration S]``. Needs PostgreSQL and
redis-server installed (``scripts/install-services``); the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages (bench, tests.support)

from bench.load import SECRET, TOKEN, free_port, launch, prepare_table  # noqa: E402
from tests.support.services import postgres_bin_dir, postgres_server, redis_server  # noqa: E402

LEASE_TTL_S = 2.0
LOAD = Path(__file__).resolve().parent / "load.py"


def start_servers(
    count: int, url: str, redis_url: str | None, root: Path
) -> list[tuple[int, subprocess.Popen[bytes]]]:
    servers = []
    for index in range(count):
        port = free_port()
        data_dir = root / f"node{index}"
        data_dir.mkdir(parents=True)
        command = [
            sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port), "--data-dir", str(data_dir),
            "--requester-token", TOKEN, "--secret", SECRET, "--log-level", "warning", "--store-url", url,
        ]  # fmt: skip
        if redis_url is not None:
            command += ["--redis-url", redis_url, "--lease-ttl", str(LEASE_TTL_S)]
        servers.append((port, launch(command, port, data_dir / "server.log", f"server {index}")))
    return servers


def stop_servers(servers: list[tuple[int, subprocess.Popen[bytes]]]) -> None:
    for _, process in servers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for _, process in servers:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# ---------------------------------------------------------------------------------------- load
def run_load(mode: str, url: str, redis_url: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """One run of bench/load.py's clients against 1 or 3 processes."""
    count = 1 if mode == "1proc" else 3
    servers = start_servers(count, url, redis_url if count > 1 else None, root)
    bases = [f"http://127.0.0.1:{port}" for port, _ in servers]
    try:
        limit = {"ops_per_second": max(5.0, 2 * args.rate), "burst": 20}
        _, tokens = prepare_table(bases[0], args.workers, args.rate, args.duration, limit)
        shares = [tokens[i :: args.processes] for i in range(args.processes)]
        observers = max(1, args.observers // args.processes)
        clients = []
        for index, share in enumerate(shares):
            config = {
                "index": index, "tokens": share, "base_url": bases[index % len(bases)], "rate": args.rate,
                "duration": args.duration, "warmup": args.warmup, "observers": observers,
            }  # fmt: skip
            clients.append(
                subprocess.Popen(
                    [sys.executable, str(LOAD), "--client", json.dumps(config)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for client in clients:
            assert client.stdout is not None
            if client.stdout.readline().strip() != "READY":
                raise RuntimeError("a client process failed to connect its workers")
        start = time.time() + 0.5
        for client in clients:
            assert client.stdin is not None
            client.stdin.write(f"GO {start}\n")
            client.stdin.flush()
        results = []
        for client in clients:
            out, _ = client.communicate(timeout=args.duration + 120)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        stop_servers(servers)
    window = args.duration - args.warmup
    ack_ms = [x for r in results for x in r["ack_ms"]]
    seen_ms = [x for r in results for x in r["seen_ms"]]
    return {
        "ops_per_s": round(sum(r["acked"] for r in results) / window, 1),
        "ack_p50_ms": _percentile(ack_ms, 50),
        "ack_p99_ms": _percentile(ack_ms, 99),
        "seen_p50_ms": _percentile(seen_ms, 50),
        "seen_p99_ms": _percentile(seen_ms, 99),
        "refused": sum(r["refused"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


# ---------------------------------------------------------------------------------------- failover
class Filler:
    """A worker in this process: fills random empty cells, upvotes full rows, records its acks."""

    def __init__(self, base_url: str, token: str, acked: dict[int, dict[str, Any]]) -> None:
        self.base_url = base_url
        self.token = token
        self.acked = acked
        self.rows: dict[str, dict[str, Any]] = {}
        self.refusals: list[str] = []
        self.seen_seq = 0  # below which every op has been seen (acks and forwards arrive out of order)
        self.ahead: set[int] = set()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.joined = asyncio.Event()
        self.sio.on("snapshot", self._snapshot, namespace="/worker")
        self.sio.on("op", self._op, namespace="/worker")

    async def connect(self) -> None:
        await self.sio.connect(
            self.base_url,
            namespaces=["/worker"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=30,
        )
        await asyncio.wait_for(self.joined.wait(), 30)

    async def _snapshot(self, data: dict[str, Any]) -> None:
        self.rows = {row["row_id"]: dict(row["values"]) for row in data["rows"]}
        self.seen_seq = int(data["seq"])
        self.ahead.clear()  # a snapshot replaces everything, a lost batch's ops included
        self.joined.set()

    async def _op(self, data: dict[str, Any]) -> None:
        self._apply(data["op"])
        self._note(int(data["seq"]))

    def _note(self, seq: int) -> None:
        if seq > self.seen_seq:
            self.ahead.add(seq)
            while self.seen_seq + 1 in self.ahead:
                self.seen_seq += 1
                self.ahead.discard(self.seen_seq)

    def _apply(self, op: dict[str, Any]) -> None:
        if op.get("type") == "insert":
            self.rows.setdefault(op["row_id"], dict(op["values"]))
        elif op.get("type") == "fill":
            base = self.rows.pop(op["row_id"], None)
            self.rows[op["new_row_id"]] = dict(
                op.get("values") or {**(base or {}), op["column"]: op["value"]}
            )

    async def run(self, stop: asyncio.Event, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set() and self.sio.connected:
            empty = [(r, c) for r, v in self.rows.items() for c in ("c1", "c2", "c3") if c not in v]
            if empty:
                row_id, column = rng.choice(empty)
                fill = {"row_id": row_id, "column": column, "value": f"v{rng.random():.6f}"}
                kind, payload = "fill", {**fill, "seen_seq": self.seen_seq}
            elif self.rows:
                kind, payload = "upvote", {"row_id": rng.choice(list(self.rows)), "seen_seq": self.seen_seq}
            else:
                await asyncio.sleep(0.05)
                continue
            try:
                ack = await self.sio.call(kind, payload, namespace="/worker", timeout=20)
            except socketio.exceptions.SocketIOError:
                return  # the connection died (its process was killed) or the op timed out: not acked
            if ack.get("ok"):
                self.acked[int(ack["seq"])] = ack["op"]
                self._apply(ack["op"])
                self._note(int(ack["seq"]))
            else:
                self.refusals.append(str(ack.get("error", {}).get("message", "?")))
            await asyncio.sleep(0.02)


async def failover(url: str, redis_url: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    servers = start_servers(3, url, redis_url, root)
    bases = [f"http://127.0.0.1:{port}" for port, _ in servers]
    fillers: list[Filler] = []
    try:
        _, tokens = prepare_table(
            bases[0], args.failover_workers, 10, 30, {"ops_per_second": 1000, "burst": 1000}
        )
        holder = _lease_holder(url)
        owner = next(i for i, (_, p) in enumerate(servers) if f"-{p.pid}-" in holder)
        survivors = [i for i in range(3) if i != owner]
        acked: dict[int, dict[str, Any]] = {}
        stop = asyncio.Event()
        fillers = [Filler(bases[i % 3], token, acked) for i, token in enumerate(tokens)]
        for filler in fillers:
            await filler.connect()
        tasks = [asyncio.create_task(f.run(stop, i)) for i, f in enumerate(fillers)]
        await asyncio.sleep(args.failover_warmup)
        if not acked:
            refusals = sorted({code for f in fillers for code in f.refusals})
            raise RuntimeError(f"no operation was acknowledged before the kill (refusals: {refusals})")
        servers[owner][1].send_signal(signal.SIGKILL)
        killed_at = time.time()
        # The killed process's workers reconnect through a survivor, as pages do.
        for index, filler in enumerate(fillers):
            if filler.base_url == bases[owner]:
                with contextlib.suppress(socketio.exceptions.SocketIOError):
                    await filler.sio.eio.disconnect(abort=True)
                tasks[index].cancel()
                replacement = Filler(bases[survivors[index % 2]], filler.token, acked)
                fillers[index] = replacement
                await replacement.connect()
                tasks[index] = asyncio.create_task(replacement.run(stop, 100 + index))
        # Served again: the first append after the kill (only a new owner can append then).
        first_append = None
        while first_append is None and time.time() < killed_at + 60:
            await asyncio.sleep(0.02)
            first_append = _first_append_after(url, killed_at)
        failover_s = (first_append or time.time()) - killed_at
        await asyncio.sleep(1.0)
        stop.set()
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        table_id = _table_id(url)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=bases[survivors[0]], headers=headers, timeout=30) as http:
            log = (await http.get(f"/api/tables/{table_id}/log", params={"limit": 10_000})).json()
        if "ops" not in log:
            raise RuntimeError(f"reading the log failed: {log}")
        stored = {entry["seq"]: entry["op"] for entry in log["ops"]}
        lost = sum(1 for seq, op in acked.items() if stored.get(seq) != op)
        return {"failover_s": round(failover_s, 3), "lost_acked": lost, "acked": len(acked)}
    finally:
        for filler in fillers:
            with contextlib.suppress(socketio.exceptions.SocketIOError):
                await filler.sio.eio.disconnect(abort=True)
        stop_servers(servers)


def _lease_holder(url: str) -> str:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT holder FROM leases").fetchone()
    assert row is not None, "no lease taken"
    return str(row[0])


def _first_append_after(url: str, at: float) -> float | None:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT min(at) FROM log WHERE at > %s", (at,)).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _table_id(url: str) -> str:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT table_id FROM leases").fetchone()
    assert row is not None
    return str(row[0])


def _percentile(samples: list[float], q: int) -> float | None:
    if len(samples) < 2:
        return round(samples[0], 2) if samples else None
    return round(statistics.quantiles(samples, n=100, method="inclusive")[q - 1], 2)


def _median(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one short run per mode, fewer workers")
    parser.add_argument("--workers", type=int, help="load workers (default 50, quick 20)")
    parser.add_argument("--rate", type=float, default=1.0, help="ops per second per load worker (default 1)")
    parser.add_argument("--duration", type=float, help="seconds per load run (default 15, quick 4)")
    parser.add_argument("--rounds", type=int, help="1proc,3proc pairs (default 2, quick 1)")
    parser.add_argument("--failover-only", action="store_true", help="skip the load runs")
    args = parser.parse_args()
    args.workers = args.workers or (20 if args.quick else 50)
    args.duration = args.duration or (4.0 if args.quick else 15.0)
    args.warmup = 0.5 if args.quick else 2.0
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.processes = 3  # client processes: one per server in the 3-process mode
    args.observers = 12
    args.failover_workers = 6 if args.quick else 12
    args.failover_warmup = 1.5 if args.quick else 3.0
    if postgres_bin_dir() is None or shutil.which("redis-server") is None:
        # Not a failure of the code measured: say what is missing, as the last (JSON) line.
        reason = "needs PostgreSQL (initdb, pg_ctl) and redis-server: run scripts/install-services"
        print(json.dumps({"bench": "cluster", "skipped": reason}), flush=True)
        return
    runs: dict[str, list[dict[str, Any]]] = {"1proc": [], "3proc": []}
    with (
        tempfile.TemporaryDirectory(prefix="crowdfill-cluster-") as root,
        postgres_server() as postgres,
        redis_server() as redis,
    ):
        for round_index in range(0 if args.failover_only else args.rounds):
            for mode in ("1proc", "3proc"):  # interleaved: A, B, A, B
                result = run_load(
                    mode, postgres.new_database(), redis.url, args, Path(root) / f"{mode}-{round_index}"
                )
                runs[mode].append(result)
                print(f"{mode} {json.dumps(result)}", flush=True)
        fail = asyncio.run(failover(postgres.new_database(), redis.url, args, Path(root) / "failover"))
        print(f"failover {json.dumps(fail)}", flush=True)
    medians = {
        mode: {key: _median([run[key] for run in results]) for key in (results[0] if results else {})}
        for mode, results in runs.items()
    }
    one, three = medians["1proc"].get("seen_p99_ms"), medians["3proc"].get("seen_p99_ms")
    ops_one, ops_three = medians["1proc"].get("ops_per_s"), medians["3proc"].get("ops_per_s")
    summary = {
        "bench": "cluster",
        "quick": args.quick,
        "workers": args.workers,
        "rounds": args.rounds,
        "1proc": medians["1proc"],
        "3proc": medians["3proc"],
        "seen_p99_ms_1proc": one,
        "seen_p99_ms_3proc": three,
        "ratio": round(three / one, 3) if one and three else None,
        "ops_per_s_ratio": round(ops_three / ops_one, 3) if ops_one and ops_three else None,
        "lease_ttl_s": LEASE_TTL_S,
        **fail,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
