"""Load on the real server: N worker clients over real sockets, each doing valid operations at a rate.

Three servers are measured in the same run, each in its own process under the same client load:

- ``durable``: ``crowdfill serve`` on SQLite (every operation durable before it is acknowledged);
- ``memory``: ``crowdfill serve --store-url memory://`` (persistence off): durable/memory is the
  durability ratio;
- ``relay``: a bare python-socketio relay written here (no state, no validation, no persistence:
  it numbers each event and forwards it to the other clients): the floor any Socket.IO server
  pays for the same fan-out.

Workers run in separate client processes (asyncio inside each). Each worker fills empty cells of
rows it sees (and upvotes complete rows when nothing is left to fill) at ``--rate`` operations per
second. Reported per server: sustained acknowledged ops/s, acknowledgement latency, fill-to-seen-
by-other-workers latency p50/p99 (the fill's send time travels in its row id), server CPU (psutil
on the server's pid) and peak RSS, and server CPU per delivered message (acks + forwarded ops).

Usage: ``python bench/load.py [--quick] [--workers N] [--rate R] [--duration S] [--rounds K]
[--modes durable,relay,...]``. With ``--rounds`` the servers are run interleaved (A,B,C,A,B,C...)
and every figure is the median over the rounds. The durable server can also be compared on other
loop/HTTP/WebSocket stacks (modes ``durable-asyncio``, ``durable-wsproto``, ``durable-legacy-ws``)
and with other per-recipient writers (``durable-direct-writer``: without the whole frames to
uvicorn's transport; ``durable-loop-writer``, ``durable-engineio-writer``), and with forwards
that wait for the append's fsync (``durable-late-forward``, early forwarding off).
The last line printed is one JSON object; ``cpu_per_msg_ratio_relay`` and ``seen_p99_ratio_relay``
are the durable server's figures over the relay's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import socketio

TOKEN = "bench-requester-token"  # noqa: S105  # a throwaway token for a local benchmark server
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105  # same: local benchmark only
COLUMNS = ("c0", "c1", "c2", "c3")
NEVER = "never"  # a template value no worker fills: the table never completes during the run
MODES = ("durable", "memory", "relay")
# Variants of the durable server on other loop/HTTP/WebSocket stacks (``--modes`` to compare them).
STACK_VARIANTS = {
    "durable-asyncio": ["--loop", "asyncio", "--http", "h11"],
    "durable-wsproto": ["--ws", "wsproto"],
    "durable-legacy-ws": ["--ws", "websockets"],
    # The per-recipient write (crowdfill.server.socket_writer): python-engineio's own writer,
    # that writer without its per-wake timeout, and the direct write through the ASGI send
    # (without raw_frames' whole frames to uvicorn's transport).
    "durable-engineio-writer": ["--socket-writer", "engineio"],
    "durable-direct-writer": ["--socket-writer", "direct"],
    "durable-loop-writer": ["--socket-writer", "loop"],
    # Forwards wait for the append's fsync, as before early forwarding (issue 19).
    "durable-late-forward": ["--no-early-forward"],
    # Every message through python-engineio's and python-socketio's dispatch (crowdfill.server.socket_reader).
    "durable-library-receive": ["--no-lean-receive"],
}


# ---------------------------------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(mode: str, port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    if mode == "relay":
        command = [sys.executable, __file__, "--relay-server", "--port", str(port)]
    else:
        command = [
            sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port),
            "--data-dir", str(data_dir), "--requester-token", TOKEN, "--secret", SECRET,
            "--log-level", "warning",
        ]  # fmt: skip
        if mode == "memory":
            command += ["--store-url", "memory://"]
        command += STACK_VARIANTS.get(mode, [])
    return launch(command, port, data_dir / f"{mode}.log", f"{mode} server")


def launch(command: list[str], port: int, log_path: Path, what: str) -> subprocess.Popen[bytes]:
    """Start ``command`` with its output in ``log_path``; return once it accepts connections on ``port``."""
    log = log_path.open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return process
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


def prepare_table(
    base_url: str, workers: int, rate: float, duration: float, rate_limit: dict[str, float] | None = None
) -> tuple[str, list[str]]:
    """A live table with enough empty rows for the run, and one worker link per client.

    ``rate_limit``: the table's per-worker limit (docs/protocol.md); None keeps the server's default.
    """
    fills = int(workers * rate * duration) + workers
    rows = max(20, fills // len(COLUMNS) + 1)
    definition = {
        "name": "load",
        "schema": {"columns": [{"name": c} for c in COLUMNS]},
        # Threshold, as in the figures of docs/benchmarks.md (the default is reputation, whose
        # emitter's cost docs/quality.md measures apart).
        "scoring": {"family": "threshold", "min_votes": 2},
        "template": [{"c0": NEVER}, *({} for _ in range(rows))],
        "budget_cents": 100_000,
    }
    if rate_limit is not None:
        definition["rate_limit"] = rate_limit
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        created = http.post("/api/tables", json=definition)
        created.raise_for_status()
        table_id = created.json()["id"]
        http.post(f"/api/tables/{table_id}/launch").raise_for_status()
        tokens = []
        for index in range(workers):
            link = http.post(f"/api/tables/{table_id}/links", json={"worker_id": f"load-{index}"})
            link.raise_for_status()
            tokens.append(link.json()["token"])
    return table_id, tokens


# ---------------------------------------------------------------------------------------- relay
def relay_server(port: int) -> None:
    """The baseline: number each event, forward it to the room, ack. No state, no persistence."""
    import uvicorn  # only the relay process needs it

    sio = socketio.AsyncServer(async_mode="asgi")
    counter = {"seq": 0}
    rows = [{"row_id": f"e{i}", "values": {}} for i in range(5000)]
    pending: set[asyncio.Task[None]] = set()

    @sio.on("connect", namespace="/worker")  # type: ignore[untyped-decorator]  # socketio is untyped
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await sio.enter_room(sid, "table", namespace="/worker")
        # Events emitted inside the connect handler would precede the CONNECT packet.
        task = asyncio.get_running_loop().create_task(send_snapshot(sid))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def send_snapshot(sid: str) -> None:
        await asyncio.sleep(0.05)
        await sio.emit("snapshot", {"rows": rows, "seq": counter["seq"]}, to=sid, namespace="/worker")

    async def relay(sid: str, kind: str, payload: Any) -> dict[str, Any]:
        counter["seq"] += 1
        op = {"type": kind, "worker": sid, **payload}
        await sio.emit(
            "op", {"seq": counter["seq"], "op": op}, room="table", skip_sid=sid, namespace="/worker"
        )
        return {"ok": True, "seq": counter["seq"], "op": op}

    for kind in ("fill", "upvote", "downvote"):

        async def handler(sid: str, payload: Any, kind: str = kind) -> dict[str, Any]:
            return await relay(sid, kind, payload)

        sio.on(kind, handler, namespace="/worker")
    uvicorn.run(socketio.ASGIApp(sio), host="127.0.0.1", port=port, log_level="warning")


# ---------------------------------------------------------------------------------------- clients
class Worker:
    """One simulated worker with a light replica (row id -> values) to choose valid operations."""

    def __init__(self, name: str, token: str, stats: dict[str, Any], observe: bool) -> None:
        self.name = name
        self.token = token
        self.stats = stats
        self.observe = observe
        self.sio = socketio.AsyncClient(reconnection=False)
        self.rows: dict[str, dict[str, Any]] = {}
        self.removed: set[str] = set()
        self.voted: set[str] = set()
        # The seq below which every op has been seen (sent as seen_seq; events may arrive out of order).
        self.seen_seq = 0
        self.ahead: set[int] = set()
        self.joined = asyncio.Event()
        self.counter = 0
        self.sio.on("snapshot", self.on_snapshot, namespace="/worker")
        self.sio.on("op", self.on_op, namespace="/worker")
        self.sio.on("ops", self.on_ops, namespace="/worker")

    async def connect(self, base_url: str) -> None:
        await self.sio.connect(
            base_url,
            namespaces=["/worker"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=30,
        )
        await asyncio.wait_for(self.joined.wait(), 30)

    async def on_snapshot(self, data: dict[str, Any]) -> None:
        self.rows = {row["row_id"]: dict(row["values"]) for row in data["rows"]}
        self.seen_seq = int(data["seq"])
        self.joined.set()

    def note(self, seq: int) -> None:
        if seq > self.seen_seq:
            self.ahead.add(seq)
            while self.seen_seq + 1 in self.ahead:
                self.seen_seq += 1
                self.ahead.discard(self.seen_seq)

    async def on_op(self, data: dict[str, Any]) -> None:
        self.stats["received"] += 1
        op = data["op"]
        self.apply(op)
        self.note(int(data["seq"]))
        if self.observe and op.get("type") == "fill":
            sent = _sent_at(op.get("new_row_id", ""))
            if sent is not None:
                self.stats["seen_ms"].append((time.time() - sent) * 1000)

    async def on_ops(self, data: dict[str, Any]) -> None:
        # A live batch: the forwards of one server turn in one frame (each counts as delivered).
        for entry in data["ops"]:
            await self.on_op(entry)

    def apply(self, op: dict[str, Any]) -> None:
        kind = op.get("type")
        if kind == "insert":
            self.rows.setdefault(op["row_id"], dict(op["values"]))
        elif kind == "fill":
            base = self.rows.pop(op["row_id"], None)
            self.removed.add(op["row_id"])
            values = op.get("values") or {**(base or {}), op["column"]: op["value"]}
            if op["new_row_id"] not in self.removed:
                self.rows[op["new_row_id"]] = dict(values)

    def choose(self, rng: random.Random) -> tuple[str, dict[str, Any]] | None:
        candidates = [r for r, v in self.rows.items() if v.get("c0") != NEVER and len(v) < len(COLUMNS)]
        if candidates:
            row_id = rng.choice(candidates)
            column = rng.choice([c for c in COLUMNS if c not in self.rows[row_id]])
            self.counter += 1
            new_row_id = f"{self.name}.{self.counter}.{time.time():.6f}"
            value = f"{self.name}-{self.counter}"
            fill = {"row_id": row_id, "column": column, "value": value, "new_row_id": new_row_id}
            return "fill", {**fill, "seen_seq": self.seen_seq}
        complete = [r for r, v in self.rows.items() if len(v) == len(COLUMNS) and r not in self.voted]
        if complete:
            row_id = rng.choice(complete)
            self.voted.add(row_id)
            return "upvote", {"row_id": row_id, "seen_seq": self.seen_seq}
        return None

    async def run(self, start: float, duration: float, rate: float, window: tuple[float, float]) -> None:
        rng = random.Random(self.name)
        interval = 1.0 / rate
        next_at = start + rng.uniform(0, interval)
        while True:
            delay = next_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.time() >= start + duration:
                return
            choice = self.choose(rng)
            if choice is not None:
                kind, payload = choice
                sent = time.time()
                try:
                    ack = await self.sio.call(kind, payload, namespace="/worker", timeout=30)
                except socketio.exceptions.SocketIOError:
                    self.stats["errors"] += 1
                    ack = {"ok": False}
                done = time.time()
                if ack.get("ok"):
                    self.apply(ack["op"])
                    self.note(int(ack["seq"]))
                    if window[0] <= done <= window[1]:
                        self.stats["acked"] += 1
                        self.stats["ack_ms"].append((done - sent) * 1000)
                else:
                    self.stats["refused"] += 1
            next_at = max(next_at + interval, time.time())


async def client_process(config: dict[str, Any]) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "acked": 0,
        "refused": 0,
        "errors": 0,
        "received": 0,
        "ack_ms": [],
        "seen_ms": [],
    }
    workers = [
        Worker(f"p{config['index']}w{i}", token, stats, observe=i < config["observers"])
        for i, token in enumerate(config["tokens"])
    ]
    for worker in workers:
        await worker.connect(config["base_url"])
    print("READY", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = float(line.split()[1])
    duration, warmup = config["duration"], config["warmup"]
    window = (start + warmup, start + duration)
    await asyncio.gather(*(w.run(start, duration, config["rate"], window) for w in workers))
    received_in_total = stats["received"]
    for worker in workers:
        with contextlib.suppress(socketio.exceptions.SocketIOError):
            await worker.sio.disconnect()
    stats["received"] = received_in_total
    return stats


# ---------------------------------------------------------------------------------------- driver
def run_mode(mode: str, args: argparse.Namespace, root: Path, round_index: int = 0) -> dict[str, Any]:
    port = free_port()
    data_dir = root / f"{mode}-{round_index}"
    data_dir.mkdir()
    server = start_server(mode, port, data_dir)
    base_url = f"http://127.0.0.1:{port}"
    try:
        if mode == "relay":
            tokens = ["relay"] * args.workers
        else:
            # Scripted workers at --rate: the table's limit stays out of their way (the server's
            # default, 5 ops/s per worker, is a person's pace; bench/flood.py measures the limit).
            limit = {"ops_per_second": max(5.0, 2 * args.rate), "burst": 20}
            _, tokens = prepare_table(base_url, args.workers, args.rate, args.duration, limit)
        shares = [tokens[i :: args.processes] for i in range(args.processes)]
        clients = []
        observers = max(1, args.observers // args.processes)
        for index, share in enumerate(shares):
            config = {
                "index": index, "tokens": share, "base_url": base_url, "rate": args.rate,
                "duration": args.duration, "warmup": args.warmup, "observers": observers,
            }  # fmt: skip
            clients.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--client", json.dumps(config)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for client in clients:
            assert client.stdout is not None
            assert client.stdin is not None
            line = client.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"a client process failed to connect its workers ({line!r})")
        monitored = psutil.Process(server.pid)
        start = time.time() + 0.5
        for client in clients:
            assert client.stdin is not None
            client.stdin.write(f"GO {start}\n")
            client.stdin.flush()
        time.sleep(max(0.0, start + args.warmup - time.time()))
        cpu_before = monitored.cpu_times()
        wall_before = time.monotonic()
        peak_rss = monitored.memory_info().rss
        while time.time() < start + args.duration:
            time.sleep(0.25)
            peak_rss = max(peak_rss, monitored.memory_info().rss)
        cpu_after = monitored.cpu_times()
        wall = time.monotonic() - wall_before
        results = []
        for client in clients:
            out, _ = client.communicate(timeout=120)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    window = args.duration - args.warmup
    acked = sum(r["acked"] for r in results)
    received = sum(r["received"] for r in results)
    ack_ms = [x for r in results for x in r["ack_ms"]]
    seen_ms = [x for r in results for x in r["seen_ms"]]
    cpu_seconds = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    # Messages in the window: each acked op is one ack plus one forward to every other worker.
    delivered = acked * args.workers
    return {
        "mode": mode,
        "ops_per_s": round(acked / window, 1),
        "offered_ops_per_s": round(args.workers * args.rate, 1),
        "ack_p50_ms": _percentile(ack_ms, 50),
        "ack_p99_ms": _percentile(ack_ms, 99),
        "seen_p50_ms": _percentile(seen_ms, 50),
        "seen_p99_ms": _percentile(seen_ms, 99),
        "server_cpu_percent": round(100 * cpu_seconds / wall, 1),
        "server_peak_rss_mb": round(peak_rss / 2**20, 1),
        "cpu_us_per_message": round(1e6 * cpu_seconds / delivered, 2) if delivered else None,
        "forwards_received": received,
        "refused": sum(r["refused"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def _ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Durable over memory (the cost of durability) and memory over the bare relay (of the product)."""

    def ratio(top: str, bottom: str, figure: str) -> float | None:
        if top not in results or bottom not in results:
            return None
        a, b = results[top][figure], results[bottom][figure]
        return round(a / b, 3) if a and b else None

    ratios = {
        "durability_ratio": ratio("durable", "memory", "ops_per_s"),
        "durability_seen_p50_ratio": ratio("durable", "memory", "seen_p50_ms"),
        "durability_cpu_per_message_ratio": ratio("durable", "memory", "cpu_us_per_message"),
        "relay_seen_p50_ratio": ratio("memory", "relay", "seen_p50_ms"),
        "relay_cpu_per_message_ratio": ratio("memory", "relay", "cpu_us_per_message"),
    }
    # The live path's goals (issue 19): the durable server against the bare relay, same run.
    ratios["cpu_per_msg_ratio_relay"] = ratio("durable", "relay", "cpu_us_per_message")
    ratios["seen_p99_ratio_relay"] = ratio("durable", "relay", "seen_p99_ms")
    ratios["ops_per_s_ratio_relay"] = ratio("durable", "relay", "ops_per_s")
    for variant in STACK_VARIANTS:
        # Above 1: the variant's stack costs more CPU per message than the default's.
        ratios[f"{variant}_cpu_per_msg_ratio"] = ratio(variant, "durable", "cpu_us_per_message")
    # The headline: sustained throughput with durability on over persistence off.
    ratios["ratio"] = ratios["durability_ratio"]
    return {key: value for key, value in ratios.items() if value is not None}


def _medians(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the rounds of one mode (non-numeric fields from the first)."""
    merged: dict[str, Any] = dict(rounds[0])
    for key, value in rounds[0].items():
        values = [r[key] for r in rounds if isinstance(r.get(key), int | float) and r.get(key) is not None]
        if isinstance(value, int | float) and values:
            merged[key] = round(statistics.median(values), 3)
    merged["rounds"] = len(rounds)
    return merged


def _percentile(samples: list[float], q: int) -> float | None:
    if len(samples) < 2:
        return round(samples[0], 2) if samples else None
    return round(statistics.quantiles(samples, n=100, method="inclusive")[q - 1], 2)


def _sent_at(row_id: str) -> float | None:
    parts = row_id.split(".", 2)
    if len(parts) != 3:
        return None
    try:
        return float(parts[2])
    except ValueError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds per server, fewer workers")
    parser.add_argument("--workers", type=int, help="worker clients (default 50, quick 20; up to 500)")
    parser.add_argument(
        "--rate", type=float, default=1.0, help="operations per second per worker (default 1)"
    )
    parser.add_argument("--duration", type=float, help="seconds of load per server (default 20, quick 3)")
    parser.add_argument(
        "--warmup", type=float, help="seconds not measured at the start (default 2, quick 0.5)"
    )
    parser.add_argument("--processes", type=int, help="client processes (default: CPUs, at most 8)")
    parser.add_argument("--observers", type=int, default=20, help="workers recording seen-latency")
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"comma-separated, from {(*MODES, *STACK_VARIANTS)}",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="interleaved rounds (A,B,C,A,B,C...); figures are medians"
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--relay-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay_server:
        relay_server(args.port)
        return
    if args.client:
        print(json.dumps(asyncio.run(client_process(json.loads(args.client)))), flush=True)
        return
    args.workers = args.workers or (20 if args.quick else 50)
    if not 1 <= args.workers <= 500:
        parser.error("--workers must be between 1 and 500")
    args.duration = args.duration or (3.0 if args.quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 2.0)
    args.processes = max(1, min(args.processes or min(8, os.cpu_count() or 1), args.workers))
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES and m not in STACK_VARIANTS]
    if unknown:
        parser.error(f"unknown modes {unknown}; choose from {(*MODES, *STACK_VARIANTS)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    per_round: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory(prefix="crowdfill-load-") as root:
        for round_index in range(args.rounds):
            for mode in modes:
                figures = run_mode(mode, args, Path(root), round_index)
                per_round[mode].append(figures)
                print(f"{mode:8} round {round_index + 1} {json.dumps(figures)}", flush=True)
    results = {mode: _medians(rounds) for mode, rounds in per_round.items()}
    load = os.getloadavg()
    summary: dict[str, Any] = {
        "bench": "load",
        "quick": args.quick,
        "workers": args.workers,
        "rate_per_worker": args.rate,
        "duration_s": args.duration,
        "client_processes": args.processes,
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        # The machine is shared: its load at the end of the run says how noisy the figures are.
        "loadavg_1_5_15": [round(x, 2) for x in load],
        **results,
    }
    summary.update(_ratios(results))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
