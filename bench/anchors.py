"""Our server beside y-websocket and the python-socketio relay, in the live-edit harness.

The harness (``shared/anchors/`` beside this checkout: a driver, a workload and one client per
server, described in its README) is copied to a scratch folder, its client for our server is
brought up to the protocol, and rounds of ``python3 bench.py --anchor X --n N --rate R --duration
T`` run interleaved (y-websocket, ours, [the relay,] y-websocket, ours, ...), each server on a fresh
start. Figures per server are medians over the rounds; ratios are medians of the per-round ratios
(ours over the anchor in the same round), so a loaded round moves both sides of its ratio.

What the client for our server needs that the harness's copy lacks (it is part of the benchmark,
not the product, and follows the protocol, docs/protocol.md):

- every fill carries ``seen_seq`` (the largest seq below which the user has seen every number: its
  snapshot, acks, ``op`` events and batches), or a fill of a row the user saw replaced is refused
  as stale;
- the table's ``rate_limit`` is 1000/s (the default of 5/s would refuse a burst);
- the table has enough empty cells for every fill of the run (the client's fallback once they run
  out, a fill of a row already replaced, is refused as stale and counted as lost): the workload's
  200 x 5 at N = 50, r = 1 and T = 10 s (650 fills), more rows at higher rates or longer runs (so
  the table grows with the rate: about 6,000 rows at 32/s);
- a live ``ops`` batch (several forwards in one frame) is counted entry by entry, like ``op``.

Each change replaces text that must be found exactly once in the harness's client, so a harness
that changed is reported instead of half-patched.

CPU per delivered message = the server's CPU from GO to the end of the drain / (messages
delivered per second x (warm-up + duration)); the harness prints the first two, its rate over the
measured window only, so the divisor estimates the messages of the whole run the same way for
every server (the ratios are exact, the microseconds a little high). ``lost`` and ``ok`` are the
harness's own verdicts (``ok``: p99 <= 100 ms, nothing lost, the clients kept up).

Usage: ``python bench/anchors.py [--quick] [--harness DIR] [--scratch DIR] [--rounds 6] [--n 50]
[--rate 1] [--duration 10] [--servers ywebsocket,crowdfill] [--extra "ARGS for crowdfill serve"]
[--sustained]``. ``--quick``: one round of 5 s; where the harness is not beside the checkout, as
on CI, it says so and prints ``{"skipped": ...}`` instead of failing ``make bench``. The copy is
kept in ``--scratch`` (default ``bench/results/anchors``, git-ignored) and reused: y-websocket's
packages are installed there with ``npm ci`` from the harness's lock file, and the relay's with
pip, the first time only (a registry must be reachable then); our client is patched again on
every run. The last line printed is one JSON object with ``cpu_per_msg_ratio_ywebsocket`` and
``seen_p99_ratio_ywebsocket`` (and ``..._relay`` with the relay in ``--servers``).
``--sustained`` runs the harness's own stepping instead (rates 1, 2, 4, ... per client until a
run fails, then the midpoint once) for each server, and prints the highest rate that passed for
each and ``sustained_ratio_relay`` (ours over the relay's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVERS = {"ywebsocket": "ywebsocket", "crowdfill": "crowdfill", "relay": "socketio"}

# (what the harness's crowdfill/client.py says, what it says here); each found exactly once.
CLIENT_CHANGES: tuple[tuple[str, str], ...] = (
    (
        '"template": [{} for _ in range(rows)], "budget_cents": 100000}',
        '"template": [{} for _ in range(rows)], "budget_cents": 100000,\n'
        '                      "rate_limit": {"ops_per_second": 1000, "burst": 1000}}',
    ),
    (
        "setup_table, a.url, a.n, a.rows, a.cols)",
        "setup_table, a.url, a.n, table_rows(a), a.cols)",
    ),
    (
        "async def main() -> None:\n",
        "def table_rows(a: argparse.Namespace) -> int:\n"
        "    # Enough empty cells for every fill of the run (a fill of a row the user saw replaced is\n"
        "    # refused as stale): more rows than the workload's only at rates that need them. 2 s and a\n"
        "    # quarter more than the schedule's fills: slack for late senders, not a measured bound.\n"
        "    fills = a.n * a.rate * (a.warmup + a.duration + 2)\n"
        "    return max(a.rows, math.ceil(fills * 1.25 / a.cols))\n"
        "\n\n"
        "async def main() -> None:\n",
    ),
    (
        "            self.joined = asyncio.Event()\n",
        "            self.joined = asyncio.Event()\n"
        "            self.last_seq = 0  # every seq up to it seen (acks, op, ops, the snapshot)\n"
        "            self.ahead: set[int] = set()  # seqs seen beyond last_seq\n",
    ),
    (
        "        # --- events\n",
        "        def saw(self, seq: int) -> None:\n"
        "            if seq <= self.last_seq:\n"
        "                return\n"
        "            self.ahead.add(seq)\n"
        "            while self.last_seq + 1 in self.ahead:\n"
        "                self.last_seq += 1\n"
        "                self.ahead.discard(self.last_seq)\n"
        "\n"
        "        # --- events\n",
    ),
    (
        '            self.original = [r["row_id"] for r in d["rows"] if not r["values"]]\n',
        '            self.original = [r["row_id"] for r in d["rows"] if not r["values"]]\n'
        "            # A snapshot (at connect, or after the server lost a batch) sets the seq outright.\n"
        '            self.last_seq = d.get("seq", 0)\n'
        "            self.ahead.clear()\n",
    ),
    (
        "        async def on_ops(self, d: dict) -> None:\n"
        '            for e in d["ops"]:\n'
        '                self.apply(e["op"])\n',
        "        async def on_ops(self, d: dict) -> None:\n"
        '            for e in d["ops"]:\n'
        '                if "from_seq" in d:  # a replay after a reconnect\n'
        '                    self.saw(e["seq"])\n'
        '                    self.apply(e["op"])\n'
        "                else:  # a live batch: each entry is a forward, counted like an op\n"
        "                    await self.on_op(e)\n",
    ),
    (
        '            op = d["op"]\n            self.apply(op)\n',
        '            op = d["op"]\n            self.saw(d["seq"])\n            self.apply(op)\n',
    ),
    (
        '                if isinstance(ack, dict) and ack.get("ok"):\n                    st["acked"] += 1\n',
        '                if isinstance(ack, dict) and ack.get("ok"):\n'
        '                    st["acked"] += 1\n'
        '                    self.saw(ack["seq"])\n',
    ),
    (
        '"column": col, "value": value},',
        '"column": col, "value": value,\n                                 "seen_seq": self.last_seq},',
    ),
)


class HarnessChanged(Exception):
    """The harness's client is not the one these changes were written for."""


def patch_client(text: str) -> str:
    """The harness's client for our server with ``CLIENT_CHANGES`` made (HarnessChanged if one
    does not apply exactly once)."""
    for old, new in CLIENT_CHANGES:
        found = text.count(old)
        if found != 1:
            first = old.strip().splitlines()[0]
            raise HarnessChanged(
                f"the harness's crowdfill/client.py has {found} copies of {first!r} (1 expected): "
                "it changed; bring bench/anchors.py's CLIENT_CHANGES up to it"
            )
        text = text.replace(old, new)
    return text


def prepare(harness: Path, scratch: Path, servers: Sequence[str]) -> Path:
    """A writable copy of ``harness`` in ``scratch`` with our client patched and the packages of
    ``servers`` installed; returns the copy (kept between runs: an existing copy is reused, its
    client patched again)."""
    if not (harness / "bench.py").exists():  # a kept copy is patched from the harness too
        raise SystemExit(f"no live-edit harness at {harness} (bench.py missing): pass --harness DIR")
    copy = scratch / "anchors"
    if not (copy / "bench.py").exists():
        shutil.copytree(harness, copy, ignore=shutil.ignore_patterns("node_modules", ".state", ".venv"))
        for path in [copy, *copy.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)  # the shared copy is read-only
    # Patched from the harness's own client every time, so a kept copy follows CLIENT_CHANGES.
    client = harness / "crowdfill" / "client.py"
    (copy / "crowdfill" / "client.py").write_text(patch_client(client.read_text()))
    if "ywebsocket" in servers and not (copy / "ywebsocket" / "node_modules").exists():
        print("installing y-websocket's packages (npm ci) ...", file=sys.stderr, flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=copy / "ywebsocket", check=True)
    relay = copy / "socketio"
    if "relay" in servers and not (relay / ".venv" / "bin" / "python").exists():
        print("installing the relay's packages (its requirements.txt) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=relay, check=True)
        pip = [".venv/bin/pip", "install", "-q", "-r", "requirements.txt"]
        subprocess.run(pip, cwd=relay, check=True)
    return copy


def harness_run(server: str, args: argparse.Namespace, *more: str) -> tuple[list[str], dict[str, str]]:
    """The harness's driver command for ``server`` (``more`` arguments after N and T) and its
    environment (our checkout, and ``--extra`` for ``crowdfill serve``)."""
    command = ["python3", "bench.py", "--anchor", SERVERS[server], "--n", str(args.n)]
    command += ["--duration", str(args.duration), *more]
    return command, dict(os.environ, CROWDFILL_ROOT=str(ROOT), CF_EXTRA=args.extra)


def run_once(copy: Path, server: str, args: argparse.Namespace) -> dict[str, Any]:
    command, env = harness_run(server, args, "--rate", str(args.rate))
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{server}: the harness failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if "error" in result:  # the run did not start (a client was not ready, the server did not open)
        raise SystemExit(f"{server}: {result['error']}")
    if not result.get("msgs_delivered_per_s") or result.get("p99_ms") is None:
        raise SystemExit(f"{server}: the run delivered nothing measurable ({result.get('fail')})")
    return result


def sustained(copy: Path, server: str, args: argparse.Namespace) -> dict[str, Any]:
    """The harness's stepping for ``server`` (rates 1, 2, 4, ... until a run fails, then the
    midpoint once): each run's verdict as it ends, and the highest rate per client that passed."""
    command, env = harness_run(server, args, "--refine")
    runs: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    with subprocess.Popen(
        command, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as harness:
        assert harness.stdout is not None  # piped above
        for line in harness.stdout:
            if not line.startswith("{"):
                continue
            result = json.loads(line)
            if result.get("summary") == "max_sustained":
                summaries.append(result)
                continue
            run = {
                "rate": result.get("rate_per_client"),
                "p99_ms": result.get("p99_ms"),
                "lost": result.get("lost_edits"),
                "ok": result.get("ok"),
                "fail": result.get("fail"),
                "error": result.get("error"),
            }
            runs.append(run)
            if run["error"]:  # the harness could not run this rate at all: no verdict on the server
                raise SystemExit(f"{server} at {run['rate']}/s: {run['error']}")
            print(
                f"{server} at {run['rate']}/s: p99 {run['p99_ms']} ms, lost {run['lost']}, ok {run['ok']}",
                flush=True,
            )
    if harness.returncode != 0 or not summaries:
        raise SystemExit(
            f"{server}: the harness's stepping failed (exit {harness.returncode}, no max_sustained line)"
        )
    return {"max_rate_per_client": summaries[-1]["max_rate_per_client"], "runs": runs}


def cpu_per_message_us(result: dict[str, Any], seconds: float) -> float:
    return float(result["server_cpu_s"]) / (float(result["msgs_delivered_per_s"]) * seconds) * 1e6


def summary(rounds: Sequence[dict[str, dict[str, Any]]], seconds: float) -> dict[str, Any]:
    """Medians per server and the median per-round ratios of ours over each anchor."""
    servers = list(rounds[0])
    out: dict[str, Any] = {"rounds": len(rounds)}
    for server in servers:
        results = [r[server] for r in rounds]
        out[server] = {
            "cpu_per_msg_us": round(statistics.median(cpu_per_message_us(x, seconds) for x in results), 2),
            "seen_p50_ms": statistics.median(float(x["p50_ms"]) for x in results),
            "seen_p99_ms": statistics.median(float(x["p99_ms"]) for x in results),
            "seen_p99_ms_rounds": [x["p99_ms"] for x in results],
            "lost_edits": sum(int(x["lost_edits"]) for x in results),
            "ok_rounds": sum(bool(x["ok"]) for x in results),
            "send_lag_p99_ms_rounds": [x["send_lag_p99_ms"] for x in results],
        }
    for anchor in ("ywebsocket", "relay"):
        if anchor not in servers or "crowdfill" not in servers:
            continue
        cpu = [
            cpu_per_message_us(r["crowdfill"], seconds) / cpu_per_message_us(r[anchor], seconds)
            for r in rounds
        ]
        p99 = [r["crowdfill"]["p99_ms"] / r[anchor]["p99_ms"] for r in rounds]
        out[f"cpu_per_msg_ratio_{anchor}"] = round(statistics.median(cpu), 3)
        out[f"seen_p99_ratio_{anchor}"] = round(statistics.median(p99), 3)
        out[f"seen_p99_ratio_{anchor}_rounds"] = [round(x, 2) for x in p99]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", type=Path, default=ROOT.parent / "shared" / "anchors")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=ROOT / "bench" / "results" / "anchors",
        help="where the copy goes, kept for the next run (default: bench/results/anchors, git-ignored)",
    )
    parser.add_argument("--quick", action="store_true", help="1 round of 5 s; skipped without the harness")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--servers", default="ywebsocket,crowdfill")
    parser.add_argument("--extra", default="", help="more arguments for `crowdfill serve`")
    parser.add_argument(
        "--sustained", action="store_true", help="the harness's rate stepping instead of rounds at --rate"
    )
    args = parser.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    if args.quick:
        args.rounds, args.duration = 1, 5.0
        missing = [
            what
            for what, present in (
                (f"the live-edit harness at {args.harness}", (args.harness / "bench.py").exists()),
                (
                    "node and npm (for y-websocket)",
                    "ywebsocket" not in servers or bool(shutil.which("node") and shutil.which("npm")),
                ),
            )
            if not present
        ]
        if missing:
            print(f"skipped, missing: {'; '.join(missing)}", file=sys.stderr)
            print(json.dumps({"skipped": missing}))
            return
    unknown = [s for s in servers if s not in SERVERS]
    if unknown:
        parser.error(f"unknown servers {unknown}: choose from {sorted(SERVERS)}")
    if not (ROOT / ".venv" / "bin" / "crowdfill").exists():
        raise SystemExit("this checkout has no .venv with crowdfill: run `make setup` first")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.scratch.mkdir(parents=True, exist_ok=True)
    copy = prepare(args.harness.resolve(), args.scratch, servers)
    workload = json.loads((copy / "workload.json").read_text())
    if args.sustained:
        highest = {server: sustained(copy, server, args) for server in servers}
        out: dict[str, Any] = {"sustained": highest}
        if "crowdfill" in highest and "relay" in highest:
            ours, relay = highest["crowdfill"]["max_rate_per_client"], highest["relay"]["max_rate_per_client"]
            out["sustained_ratio_relay"] = round(ours / relay, 3) if ours and relay else None
        print(json.dumps(out))
        return
    seconds = float(workload["warmup_s"]) + args.duration
    rounds: list[dict[str, dict[str, Any]]] = []
    for index in range(args.rounds):
        this: dict[str, dict[str, Any]] = {}
        for server in servers:
            with open("/proc/loadavg") as loadavg:
                load = loadavg.read().split()[0]
            started = time.monotonic()
            result = this[server] = run_once(copy, server, args)
            print(
                f"round {index + 1}/{args.rounds} {server}: p50 {result['p50_ms']} ms,"
                f" p99 {result['p99_ms']} ms,"
                f" {cpu_per_message_us(result, seconds):.1f} us CPU per message, lost {result['lost_edits']},"
                f" ok {result['ok']} (load {load}, {time.monotonic() - started:.0f} s)",
                flush=True,
            )
        rounds.append(this)
    print(json.dumps(summary(rounds, seconds)))


if __name__ == "__main__":
    main()
