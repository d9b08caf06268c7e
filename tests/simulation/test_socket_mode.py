"""The socket mode against a real server (uvicorn on a free port, real Socket.IO clients)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crowdfill.cli import main
from crowdfill.model import Fill, Insert, Scoring
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.simulate import SimulationConfig
from crowdfill.simulation.socket_mode import SocketModeError, SocketSettings, simulate_over_sockets
from tests.support.live_server import REQUESTER_TOKEN, LiveServer, free_port, live_server

CROWD = CrowdSettings(workers=10, accuracy=(0.8, 0.95))


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


def test_a_simulated_crowd_completes_a_table_on_a_real_server(server: LiveServer) -> None:
    config = SimulationConfig(seed=1, crowd=CROWD, scoring=Scoring(), template="keys:5")
    settings = SocketSettings(server.base_url, REQUESTER_TOKEN, time_scale=0.01, timeout=60)
    simulation = simulate_over_sockets(config, settings)
    report = simulation.report
    assert simulation.run.end == "satisfied"
    assert report.settings["mode"] == "socket"
    table_id = report.settings["table_id"]
    final = httpx.get(f"{server.base_url}/api/tables/{table_id}/final", headers=server.headers).json()
    assert final["satisfied"] is True
    server_final = {frozenset(row["values"].items()) for row in final["rows"]}
    assert server_final == {row.values for row in simulation.run.table.final_table()}
    assert report.crowdfill.quality.recall == pytest.approx(
        report.crowdfill.quality.correct_rows / len(simulation.template)
    )
    workers = {profile.worker for profile in simulation.crowd}
    for entry in simulation.run.log:
        op = entry.operation
        assert op.worker == "central" if isinstance(op, Insert) else op.worker in workers
    fills = [entry.operation for entry in simulation.run.log if isinstance(entry.operation, Fill)]
    assert fills
    accepted = [attempt for attempt in simulation.run.attempts if attempt.accepted]
    assert len(accepted) == len(simulation.run.log) - report.crowdfill.central_inserts
    assert report.crowdfill.paid_cents + report.crowdfill.unpaid_cents == report.settings["budget_cents"]
    assert report.crowdfill.paid_cents == sum(line.crowdfill_cents for line in report.workers)


def test_simulate_with_server_runs_the_socket_mode_from_the_command_line(
    server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "report.json"
    code = main(
        [
            *("simulate", "--server", server.base_url, "--token", REQUESTER_TOKEN, "--time-scale", "0.01"),
            *("--workers", "8", "--template", "keys:3", "--accuracy", "1", "--no-progress"),
            *("--json", str(report_path)),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["settings"]["mode"] == "socket"
    assert report["crowdfill"]["end"] == "satisfied"
    assert report["crowdfill"]["quality"]["precision"] == 1.0


def test_a_wrong_requester_token_is_reported_with_the_servers_error(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["simulate", "--server", server.base_url, "--token", "not-the-token", "--no-progress"])
    assert code == 2
    assert "unauthorized" in capsys.readouterr().err


def test_an_unreachable_server_is_reported_and_not_retried_forever() -> None:
    settings = SocketSettings(f"http://127.0.0.1:{free_port()}", REQUESTER_TOKEN, timeout=5)
    with pytest.raises(SocketModeError, match="POST /api/tables"):
        simulate_over_sockets(SimulationConfig(scoring=Scoring(), template="keys:2"), settings)


def test_socket_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="http"):
        SocketSettings("127.0.0.1:8000", REQUESTER_TOKEN)
    with pytest.raises(ValueError, match="requester token"):
        SocketSettings("http://127.0.0.1:8000", "")
