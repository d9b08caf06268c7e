"""Data quality and cost over real sockets: threshold (k = 2) against reputation (k = 3) on a server.

``bench/quality.py`` measures the scorings in-process, where the simulator reweighs after every
operation. A server reweighs at its own cadence (the definition's ``quality`` block: every
``every_ops`` committed operations or ``every_seconds``, docs/quality.md). This bench starts a real
``crowdfill serve`` (SQLite store in a temporary directory) and runs the same crowds as
``bench/quality.py`` over Socket.IO with ``crowdfill.simulation.socket_mode`` (one client per
simulated worker, the protocol of docs/protocol.md, figures read back from the server's log and
settlement):

- **honest**: 20 workers at 80 % accuracy; **adversarial**: the same plus 20 % spammers and a
  colluding ring of 3 (``bench.quality.SCENARIOS``); template ``keys:10``; 3,000 actions at most.
- Scorings: ``threshold`` with ``min_votes`` 2 (the server's default before issue 15) and
  ``reputation`` with ``min_votes`` 3 at the server's default cadence; ``--cadence 1,5`` adds
  reputation tables whose ``quality`` block sets ``every_ops`` to 1, 5, ... (``every_seconds``
  unchanged).
- Runs are interleaved (seed, then scenario, then scoring), one at a time, so a busy machine
  slows every scoring alike. Timing makes each run differ from the in-process one, and from one
  run to the next: read medians over several seeds, not single runs.

Figures as ``bench/quality.py`` (``bench.quality.measure``): mean precision, cost per correct row
at equal spend against the microtask baseline (pooled), actions per correct row, satisfied runs.
The last line is one JSON object: each figure maps a scoring to its value, with
``*_vs_threshold`` ratios against the threshold runs of the same bench run.

Usage: ``python bench/quality_server.py [--quick] [--seeds N] [--first-seed S] [--cadence 1,5]
[--time-scale S]``.
``--quick``: seeds 0-1, honest and adversarial (about 2 minutes on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the bench package

# Imported after the path above.
from bench.load import SECRET, TOKEN, free_port, launch
from bench.quality import LIMITS, SCENARIOS, Figures, Run, measure, run_of
from crowdfill.model import Scoring
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.simulate import SimulationConfig
from crowdfill.simulation.socket_mode import SocketSettings, simulate_over_sockets

BASELINE = "threshold, k=2"


def variants(cadences: list[int]) -> dict[str, tuple[Scoring, dict[str, float | int] | None]]:
    """The scorings compared: threshold k = 2 first (the ratios' baseline), then reputation k = 3
    at the server's default cadence, then reputation at each ``every_ops`` asked for."""
    chosen: dict[str, tuple[Scoring, dict[str, float | int] | None]] = {
        BASELINE: (Scoring("threshold", 2), None),
        "reputation, k=3": (Scoring("reputation", 3), None),
    }
    for every in cadences:
        chosen[f"reputation, k=3, every_ops={every}"] = (Scoring("reputation", 3), {"every_ops": every})
    return chosen


def run_one(
    server: str, scoring: Scoring, quality: dict[str, float | int] | None, crowd: CrowdSettings, seed: int,
    time_scale: float,
) -> tuple[Run, str]:  # fmt: skip
    """One socket-mode run; its figures and how it ended."""
    config = SimulationConfig(seed=seed, crowd=crowd, scoring=scoring, limits=LIMITS)
    settings = SocketSettings(server, TOKEN, time_scale=time_scale, timeout=300.0, quality=quality)
    report = simulate_over_sockets(config, settings).report
    return run_of(report), report.crowdfill.end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="seeds 0-1 only")
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0..N-1 (4)")
    parser.add_argument("--first-seed", type=int, default=0, help="start the seeds there (0)")
    parser.add_argument(
        "--cadence", default="", help="also reputation with these every_ops, comma-separated (none)"
    )
    parser.add_argument(
        "--time-scale", type=float, default=0.02, help="real seconds per simulated second (0.02)"
    )
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + (2 if args.quick else args.seeds))
    cadences = [int(part) for part in args.cadence.split(",") if part.strip()]
    chosen = variants(cadences)
    runs: dict[tuple[str, str], list[Run]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crowdfill-quality-server-") as tmp:
        root = Path(tmp)
        port = free_port()
        command = [
            sys.executable, "-m", "crowdfill.cli", "serve", "--port", str(port), "--data-dir", str(root),
            "--requester-token", TOKEN, "--secret", SECRET, "--log-level", "warning",
        ]  # fmt: skip
        process = launch(command, port, root / "server.log", "server")
        try:
            for seed in seeds:
                for scenario, crowd in SCENARIOS.items():
                    for name, (scoring, quality) in chosen.items():
                        run, end = run_one(
                            f"http://127.0.0.1:{port}", scoring, quality, crowd, seed, args.time_scale
                        )
                        runs.setdefault((name, scenario), []).append(run)
                        print(
                            f"seed {seed} {scenario:<11} {name:<34} precision {run.precision:.2f} "
                            f"actions {run.actions:>5} ended {end}",
                            file=sys.stderr,
                        )
        finally:
            process.terminate()
            process.wait(timeout=30)
    results = {name: {scenario: measure(runs[(name, scenario)]) for scenario in SCENARIOS} for name in chosen}
    print(
        f"{'scoring':<34} {'scenario':<12} {'precision':>9} {'cost ratio':>10} {'actions/row':>11} "
        f"{'microtask prec.':>15} satisfied"
    )
    for name, by_scenario in results.items():
        for scenario, figures in by_scenario.items():
            print(
                f"{name:<34} {scenario:<12} {figures.precision:>9.3f} {_show(figures.cost_ratio):>10} "
                f"{_show(figures.actions_per_correct_row):>11} {figures.baseline_precision:>15.3f} "
                f"{figures.satisfied}/{figures.runs}"
            )
    print(
        json.dumps(
            summary(results, f"{seeds.start}-{seeds.stop - 1}", args.time_scale, time.monotonic() - started)
        )
    )


def summary(
    results: dict[str, dict[str, Figures]], seeds: str, time_scale: float, wall: float
) -> dict[str, object]:
    def figure(scenario: str, name: str) -> dict[str, float | None]:
        return {n: getattr(r[scenario], name) for n, r in results.items()}

    out: dict[str, object] = {
        "mode": "socket",
        "seeds": seeds,
        "time_scale": time_scale,
        "wall_seconds": round(wall, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "precision_honest": figure("honest", "precision"),
        "precision_adversarial": figure("adversarial", "precision"),
        "cost_ratio_equal_spend": figure("honest", "cost_ratio"),
        "cost_ratio_equal_spend_adversarial": figure("adversarial", "cost_ratio"),
        "actions_per_correct_row": figure("honest", "actions_per_correct_row"),
        "actions_per_correct_row_adversarial": figure("adversarial", "actions_per_correct_row"),
        "satisfied_honest": {n: f"{r['honest'].satisfied}/{r['honest'].runs}" for n, r in results.items()},
        "satisfied_adversarial": {
            n: f"{r['adversarial'].satisfied}/{r['adversarial'].runs}" for n, r in results.items()
        },
        "microtask_precision": {s: results[BASELINE][s].baseline_precision for s in SCENARIOS},
    }
    for key in (
        "precision_honest",
        "precision_adversarial",
        "cost_ratio_equal_spend",
        "cost_ratio_equal_spend_adversarial",
    ):
        values = out[key]
        assert isinstance(values, dict)
        base = values[BASELINE]
        out[f"{key}_vs_threshold"] = {
            n: None if v is None or not base else round(v / base, 3)
            for n, v in values.items()
            if n != BASELINE
        }
    return out


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
