"""``crowdfill simulate``: dry-run a collection with a simulated crowd and report quality, cost and time."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crowdfill.model import CrowdFillError, Scoring
from crowdfill.model.codec import sequenced_to_wire
from crowdfill.model.scoring import DEFAULT_MIN_VOTES
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.defaults import DEFAULT_SIMULATION_SCORING
from crowdfill.simulation.engine import Limits
from crowdfill.simulation.report import render
from crowdfill.simulation.truth import Truth, TruthError, load_schema, load_truth_csv

if TYPE_CHECKING:
    from crowdfill.simulation.simulate import Simulation


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``simulate`` to the ``crowdfill`` command."""
    parser = commands.add_parser(
        "simulate",
        help="run a whole collection with simulated workers and report quality, cost and time",
        description=(
            "Run a collection with simulated workers against a ground-truth table and report precision, "
            "recall, operations, wasted work, pay and time, beside a microtask baseline on the same crowd."
        ),
    )
    truth = parser.add_argument_group("truth and template")
    truth.add_argument("--truth", type=Path, help="ground-truth CSV with a header row (default: generated)")
    truth.add_argument("--schema", type=Path, help="schema JSON for --truth (default: inferred from the CSV)")
    truth.add_argument(
        "--key", help="comma-separated key columns (default: the schema's, or the first column)"
    )
    truth.add_argument("--rows", type=int, default=60, help="rows of the generated SoccerPlayer truth (60)")
    truth.add_argument(
        "--template",
        default="keys:10",
        help="keys:N (N truth rows' keys), empty:N, paper, or a JSON file of row objects (keys:10)",
    )
    crowd = parser.add_argument_group("crowd")
    crowd.add_argument("--workers", type=int, default=20, help="number of simulated workers (20)")
    crowd.add_argument(
        "--knowledge", default="0.4-0.7", help="share of the truth each worker knows (0.4-0.7)"
    )
    crowd.add_argument(
        "--accuracy", default="0.9", help="per-worker accuracy, a value or a range LO-HI (0.9)"
    )
    crowd.add_argument("--mix", default="0.5,0.35,0.15", help="fill,upvote,downvote weights (0.5,0.35,0.15)")
    crowd.add_argument("--think", type=float, default=20.0, help="mean think time in simulated seconds (20)")
    crowd.add_argument(
        "--spammers", type=float, default=0.0, help="share of the crowd that fills and votes at random (0)"
    )
    crowd.add_argument(
        "--upvoters", type=float, default=0.0, help="share of the crowd that upvotes every complete row (0)"
    )
    crowd.add_argument(
        "--ring", type=int, default=0, help="size of a colluding ring upvoting each other's wrong rows (0)"
    )
    crowd.add_argument(
        "--sybils", type=int, default=0, help="ids of one sybil person sharing every judgement (0)"
    )
    scoring = parser.add_argument_group("scoring and pay")
    scoring.add_argument(
        "--scoring",
        default=None,
        choices=["threshold", "difference", "majority", "weighted", "reputation"],
        help=(
            "scoring family (threshold: u-d, positive once u >= min votes, negative once d >= min votes; "
            "reputation: the same over the voters' weights, the default, in-process and over sockets)"
        ),
    )
    scoring.add_argument(
        "--min-votes",
        type=int,
        default=None,
        help=(
            f"votes before a row scores (the family's gate: reputation "
            f"{DEFAULT_MIN_VOTES['reputation']}, the others {DEFAULT_MIN_VOTES['threshold']})"
        ),
    )
    scoring.add_argument(
        "--gold", type=int, default=0, help="gold rows mixed into the table to judge voters (0; in-process)"
    )
    scoring.add_argument("--up-weight", type=float, default=1.0, help="weighted scoring: weight of u (1)")
    scoring.add_argument("--down-weight", type=float, default=1.0, help="weighted scoring: weight of d (1)")
    scoring.add_argument(
        "--budget", type=int, help="CrowdFill budget in cents (default: the baseline's maximum)"
    )
    scoring.add_argument("--growth", type=float, default=1.1, help="compensation growth factor (1.1)")
    scoring.add_argument(
        "--vote-share", type=float, default=0.2, help="share of a row's pay for voters (0.2)"
    )
    scoring.add_argument("--k", type=int, default=3, help="baseline: workers asked per cell (3)")
    scoring.add_argument("--answer-cents", type=int, default=5, help="baseline: pay per answer in cents (5)")
    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=int, default=0, help="random seed; same seed, same run (0)")
    run.add_argument("--max-steps", type=int, default=20_000, help="stop after this many worker actions")
    run.add_argument(
        "--max-seconds", type=float, default=30 * 24 * 3600.0, help="stop at this simulated time"
    )
    run.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    run.add_argument("--log", type=Path, help="write the accepted operations as JSON lines to this file")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    remote = parser.add_argument_group("socket mode (against a running server)")
    remote.add_argument(
        "--server", help="run the crowd as browsers against this server, e.g. http://127.0.0.1:8000"
    )
    remote.add_argument(
        "--token",
        help="the server's requester token (default: the CROWDFILL_REQUESTER_TOKEN environment variable)",
    )
    remote.add_argument(
        "--time-scale",
        type=float,
        default=0.02,
        help="real seconds per simulated second (0.02: 20 s think = 0.4 s)",
    )
    remote.add_argument("--timeout", type=float, default=600.0, help="wall-clock limit in seconds (600)")
    parser.set_defaults(handler=run_command)


def _scoring(args: argparse.Namespace) -> Scoring:
    """The scoring asked for; by default reputation, min_votes 3, in-process and over sockets (the
    server sequences the reweighs itself, docs/quality.md)."""
    base = DEFAULT_SIMULATION_SCORING
    family = base.family if args.scoring is None else args.scoring
    # A family named without --min-votes gets its own gate, as a server definition would.
    min_votes = DEFAULT_MIN_VOTES[family] if args.min_votes is None else args.min_votes
    return Scoring(family, min_votes, args.up_weight, args.down_weight)


def run_command(args: argparse.Namespace) -> int:
    # Imported when the command runs, so that ``crowdfill --help`` does not load networkx and friends.
    from crowdfill.simulation.simulate import SimulationConfig, simulate

    try:
        config = SimulationConfig(
            seed=args.seed,
            crowd=CrowdSettings(
                workers=args.workers,
                knowledge=_range(args.knowledge, "--knowledge"),
                accuracy=_range(args.accuracy, "--accuracy"),
                mix=_mix(args.mix),
                think=args.think,
                spammers=args.spammers,
                upvoters=args.upvoters,
                ring=args.ring,
                sybils=args.sybils,
            ),
            scoring=_scoring(args),
            template=args.template,
            generated_rows=args.rows,
            budget_cents=args.budget,
            growth=args.growth,
            vote_share=args.vote_share,
            baseline_k=args.k,
            answer_cents=args.answer_cents,
            limits=Limits(args.max_steps, args.max_seconds),
            gold=args.gold,
        )
        truth = _truth(args)
        with _ProgressBar(enabled=not args.no_progress) as bar:
            if args.server is None:
                result = simulate(config, truth, bar)
            elif args.gold:
                raise ValueError("--gold works in-process only (the server does not take gold rows yet)")
            else:
                from crowdfill.simulation.socket_mode import SocketSettings, simulate_over_sockets

                token = args.token or os.environ.get("CROWDFILL_REQUESTER_TOKEN", "")
                remote = SocketSettings(args.server, token, args.time_scale, args.timeout)
                result = simulate_over_sockets(config, remote, truth, bar)
    except (ValueError, CrowdFillError, OSError, RuntimeError) as error:
        message = error.message if isinstance(error, CrowdFillError) else str(error)
        print(f"crowdfill simulate: {message}", file=sys.stderr)
        return 2
    print(render(result.report))
    try:
        _write_files(args, result)
    except OSError as error:
        print(f"crowdfill simulate: {error}", file=sys.stderr)
        return 2
    return 0


def _write_files(args: argparse.Namespace, result: Simulation) -> None:
    if args.json is not None:
        args.json.write_text(json.dumps(result.report.to_dict(), indent=2) + "\n", encoding="utf-8")
    if args.log is not None:
        with args.log.open("w", encoding="utf-8") as handle:
            for entry in result.run.log:
                record: dict[str, Any] = {"seq": entry.seq, "at": round(entry.at, 3)}
                record.update(sequenced_to_wire(entry.operation))
                handle.write(json.dumps(record) + "\n")


def _truth(args: argparse.Namespace) -> Truth | None:
    key = tuple(name.strip() for name in args.key.split(",")) if args.key else ()
    if args.truth is None:
        if args.schema is not None or key:
            raise TruthError("--schema and --key describe a --truth CSV; give one")
        return None
    schema = load_schema(args.schema) if args.schema is not None else None
    return load_truth_csv(args.truth, schema, key)


def _range(text: str, option: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        bounds = (float(low), float(high) if high else float(low))
    except ValueError as error:
        raise ValueError(f"{option} takes a number or a range LO-HI, got {text!r}") from error
    return bounds


def _mix(text: str) -> tuple[float, float, float]:
    parts = text.split(",")
    try:
        weights = [float(part) for part in parts]
    except ValueError as error:
        raise ValueError(f"--mix takes three weights fill,upvote,downvote, got {text!r}") from error
    if len(weights) != 3:
        raise ValueError(f"--mix takes three weights fill,upvote,downvote, got {text!r}")
    return weights[0], weights[1], weights[2]


class _ProgressBar:
    """A tqdm bar of final rows against template rows, with the simulated clock; on stderr."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def __enter__(self) -> _ProgressBar:
        if self.enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=0, unit="row", desc="final rows", file=sys.stderr, leave=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def __call__(self, done: int, total: int, sim_seconds: float) -> None:
        if self._bar is None:
            return
        self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(f"simulated {sim_seconds / 60:.1f} min", refresh=False)
        self._bar.refresh()
