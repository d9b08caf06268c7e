"""The socket mode: the same simulated crowd as many browsers against a running CrowdFill server.

The requester side uses the documented REST API (create a table from the truth's schema, the
scoring and the template; one worker link per simulated worker; launch). Each simulated worker is
a ``socketio.AsyncClient`` on the ``/worker`` namespace that keeps a replica of the candidate table
(the snapshot's rows and its own votes, then every op it sees), decides with the same ``Behaviour``
as the in-process mode, thinks (simulated seconds times ``time_scale`` of real time) and emits
``fill`` / ``upvote`` / ``downvote``. The server's central client inserts rows and completes the
table. Afterwards the operation log and the settlement are read back over REST, so the report is
computed from what the server accepted. Timing makes this mode non-deterministic by nature.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import aiohttp

from crowdfill.model import CandidateTable, Scoring, Template
from crowdfill.simulation.browser import BrowserCrowd
from crowdfill.simulation.crowd import WorkerProfile
from crowdfill.simulation.engine import Limits, LoggedOperation, Progress, RunResult
from crowdfill.simulation.rest import SocketModeError, SocketSettings, definition, read_log, request
from crowdfill.simulation.simulate import Simulation, SimulationConfig, conclude, default_budget, prepare
from crowdfill.simulation.truth import Truth

__all__ = ["SocketModeError", "SocketRun", "SocketSettings", "run_over_sockets", "simulate_over_sockets"]


@dataclass(frozen=True)
class SocketRun:
    table_id: str
    run: RunResult
    payments: dict[str, int]
    paid_cents: int
    unpaid_cents: int


async def run_over_sockets(
    truth: Truth,
    template: Template,
    scoring: Scoring,
    crowd: tuple[WorkerProfile, ...],
    seed: int,
    budget_cents: int,
    compensation: dict[str, float],
    settings: SocketSettings,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> SocketRun:
    headers = {"Authorization": f"Bearer {settings.requester_token}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(settings.server.rstrip("/"), headers=headers, timeout=timeout) as rest:
        body = definition(truth, scoring, template, budget_cents, **compensation)
        body["rate_limit"] = simulated_rate_limit(settings.time_scale)
        if settings.quality is not None:
            body["quality"] = dict(settings.quality)
        table = await request(rest, "POST", "/api/tables", body)
        table_id = str(table["id"])
        tokens = {}
        for profile in crowd:
            link = await request(rest, "POST", f"/api/tables/{table_id}/links", {"worker_id": profile.worker})
            tokens[profile.worker] = str(link["token"])
        await request(rest, "POST", f"/api/tables/{table_id}/launch")
        crowd_run = BrowserCrowd(truth, template, scoring, crowd, seed, settings, limits or Limits(), tokens)
        started = time.monotonic()
        try:
            await crowd_run.connect()
            watcher = asyncio.create_task(_watch(rest, table_id, crowd_run, progress))
            end = await crowd_run.collect()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        finally:
            await crowd_run.disconnect()
        wall = time.monotonic() - started
        status = (await request(rest, "GET", f"/api/tables/{table_id}"))["status"]
        if status == "live":
            await request(rest, "POST", f"/api/tables/{table_id}/close")
        log = await read_log(rest, table_id)
        report = await request(rest, "GET", f"/api/tables/{table_id}/compensation")
    if not report.get("settled"):
        raise SocketModeError(f"table {table_id} is {status} but its compensation is not settled")
    settlement = report["settlement"]
    replica = CandidateTable(truth.schema, scoring, template)
    first = log[0][1] if log else 0.0
    entries = []
    for seq, at, op in log:
        replica.integrate(op)
        entries.append(LoggedOperation(seq, (at - first) / settings.time_scale, op))
    replica.close()
    sim_seconds = wall / settings.time_scale
    run = RunResult(replica, tuple(entries), tuple(crowd_run.attempts), end, sim_seconds, wall)
    return SocketRun(
        table_id,
        run,
        {str(worker): int(cents) for worker, cents in settlement["payments"].items()},
        int(settlement["paid_cents"]),
        int(settlement["unpaid_cents"]),
    )


def simulated_rate_limit(time_scale: float) -> dict[str, float | int]:
    """The server's default per-worker limit (5 ops/s, bursts of 20) in simulated time.

    Simulated workers act at a person's pace in simulated seconds, so in real time they are
    ``1 / time_scale`` times faster than a person; the table's limit is scaled to match.
    """
    return {"ops_per_second": min(10_000.0, 5.0 / time_scale), "burst": 20}


async def _watch(
    rest: aiohttp.ClientSession, table_id: str, crowd: BrowserCrowd, progress: Progress | None
) -> None:
    """Report progress from the table's summary (final rows against template rows); end the
    collection when the server says the table is no longer live, or cannot be read."""
    while True:
        await asyncio.sleep(0.25)
        try:
            summary = await request(rest, "GET", f"/api/tables/{table_id}")
        except SocketModeError:
            crowd.finish("stalled")
            raise
        if progress is not None:
            progress(
                min(int(summary["final_rows"]), crowd.template_size), crowd.template_size, crowd.sim_now()
            )
        if summary["status"] != "live":
            crowd.finish("satisfied" if summary["status"] == "complete" else "stalled")


def simulate_over_sockets(
    config: SimulationConfig,
    settings: SocketSettings,
    truth: Truth | None = None,
    progress: Progress | None = None,
) -> Simulation:
    """The whole socket-mode simulation: the same truth, template and crowd as in-process for a seed."""
    truth, template, crowd = prepare(config, truth)
    budget = default_budget(config, truth, template)
    compensation = {"growth": config.growth, "vote_share": config.vote_share}
    remote = asyncio.run(
        run_over_sockets(
            truth,
            template,
            config.scoring,
            crowd,
            config.seed,
            budget,
            compensation,
            settings,
            config.limits,
            progress,
        )
    )
    return conclude(
        config,
        truth,
        template,
        crowd,
        remote.run,
        remote.payments,
        remote.paid_cents,
        remote.unpaid_cents,
        budget,
        mode={
            "mode": "socket",
            "server": settings.server,
            "table_id": remote.table_id,
            "time_scale": settings.time_scale,
        },
    )
