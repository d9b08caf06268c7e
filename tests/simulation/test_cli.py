"""``crowdfill simulate`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from crowdfill.cli import main
from crowdfill.simulation.cli import _scoring
from crowdfill.wire.definition import ScoringModel


def test_simulate_prints_the_side_by_side_report_and_writes_json_and_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_path = tmp_path / "report.json"
    log_path = tmp_path / "log.jsonl"
    code = main(
        [
            *("simulate", "--seed", "4", "--accuracy", "0.7-0.95", "--no-progress"),
            *("--json", str(report_path), "--log", str(log_path)),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    for label in (
        "CrowdFill",
        "Microtask (k=3)",
        "cost per correct row",
        "rows inserted by the central client",
    ):
        assert label in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["settings"]["seed"] == 4
    assert report["settings"]["accuracy"] == [0.7, 0.95]
    assert set(report) == {
        "settings",
        "crowdfill",
        "baseline",
        "equal_spend",
        "workers",
        "pay_accuracy_correlation",
        "log_digest",
    }
    assert len(report["workers"]) == 20
    assert "wall_seconds" in report["crowdfill"]
    lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert sum(report["crowdfill"]["operations"].values()) == len(lines)


def test_simulate_reads_a_truth_csv_and_a_template_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "capitals.csv"
    rows = [f"Country{i},Capital{i},{1000 + i}" for i in range(30)]
    truth.write_text("country,capital,area\n" + "\n".join(rows) + "\n", encoding="utf-8")
    template = tmp_path / "template.json"
    template.write_text(json.dumps([{"country": "Country3"}, {}, {}]), encoding="utf-8")
    report_path = tmp_path / "report.json"
    code = main(
        [
            *("simulate", "--truth", str(truth), "--template", str(template), "--accuracy", "1"),
            *("--no-progress", "--json", str(report_path), "--scoring", "threshold", "--min-votes", "2"),
        ]
    )
    capsys.readouterr()
    assert code == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["settings"]["key"] == ["country"]
    assert report["crowdfill"]["end"] == "satisfied"
    assert report["crowdfill"]["quality"]["precision"] == 1.0


def test_the_progress_bar_goes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--seed", "1", "--template", "keys:3", "--workers", "8"]) == 0
    captured = capsys.readouterr()
    assert "final rows" in captured.err
    assert "final rows" not in captured.out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--accuracy", "high"], "--accuracy takes a number"),
        (["--mix", "1,2"], "--mix takes three weights"),
        (["--template", "keys:1000"], "asks for 1000 keys"),
        (["--key", "name"], "describe a --truth CSV"),
        (["--truth", "missing.csv"], "missing.csv"),
        (["--min-votes", "-1"], "min_votes"),
        (["--ring", "1"], "at least two ids"),
        (["--spammers", "0.7", "--upvoters", "0.5"], "below 1 together"),
        (["--gold", "100"], "outside the template"),
        (["--server", "http://127.0.0.1:9", "--token", "t", "--gold", "2"], "in-process only"),
    ],
)
def test_bad_arguments_exit_with_status_2_and_a_message_that_names_the_problem(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--no-progress", *arguments]) == 2
    assert message in capsys.readouterr().err


_RUN_ONCE = """
import json
from crowdfill.simulation.crowd import CrowdSettings
from crowdfill.simulation.simulate import SimulationConfig, simulate
config = SimulationConfig(seed=5, crowd=CrowdSettings(accuracy=(0.7, 0.95)), template="empty:5")
print(json.dumps(simulate(config).report.to_dict(wall_clock=False)))
"""


def test_the_same_seed_gives_the_same_report_in_another_process_whatever_its_hash_seed() -> None:
    reports = []
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", _RUN_ONCE], check=True, capture_output=True, env=environment, timeout=120
        )
        reports.append(json.loads(done.stdout))
    assert reports[0] == reports[1]


def test_a_report_file_that_cannot_be_written_is_reported_after_the_console_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--template", "keys:2", "--no-progress", "--json", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "precision" in captured.out
    assert str(tmp_path) in captured.err


@pytest.mark.parametrize("family", ["threshold", "difference", "majority", "weighted", "reputation"])
def test_a_family_named_without_min_votes_gets_the_same_gate_as_a_server_definition(family: str) -> None:
    args = Namespace(scoring=family, min_votes=None, up_weight=1.0, down_weight=1.0)

    assert _scoring(args).min_votes == ScoringModel.model_validate({"family": family}).min_votes
