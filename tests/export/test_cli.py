from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from crowdfill.export import cli, fields_for_schema, read
from crowdfill.export.card import read_header
from crowdfill.export.hub import HubNotConfigured, hub_token
from crowdfill.export.living import Round, keep_exporting
from crowdfill.model import CENTRAL_CLIENT, Value
from tests.export.support import PEOPLE, TABLE, Crowd, FakeServer, export_args

FIELDS = fields_for_schema(PEOPLE).fields
MESSI: dict[str, Value] = {"name": "Messi", "born": "1987-06-24", "caps": 83, "height": 1.7, "active": True}
XAVI: dict[str, Value] = {"name": "Xavi", "caps": 133, "born": "1980-01-25", "height": 1.7, "active": False}


def crowd_with_messi() -> Crowd:
    crowd = Crowd()
    crowd.upvote("w2", crowd.row("w1", MESSI))
    return crowd


class Pushes:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str, str, bool]] = []
        self.cards: list[str] = []

    def __call__(self, dataset: datasets.Dataset, repo_id: str, token: str, private: bool, card: str) -> None:
        self.calls.append((len(dataset), repo_id, token, private))
        self.cards.append(card)


def test_export_is_registered_as_a_subcommand() -> None:
    root = argparse.ArgumentParser(prog="crowdfill")
    cli.register(root.add_subparsers(dest="command", required=True))
    args = root.parse_args(["export", TABLE, "--format", "parquet", "--what", "candidates", "--out", "x"])
    assert (args.handler, args.format, args.what, args.every) == (
        cli.handle_export,
        "parquet",
        "candidates",
        None,
    )


def test_the_default_output_is_named_after_table_and_what() -> None:
    args = argparse.Namespace(out=None, table=TABLE, what="final", format="jsonl")
    assert cli.output_path(args) == Path("crowdfill-data/exports/people-final.jsonl")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
def test_one_export_reads_schema_rows_and_log_and_writes_the_format(fmt: str, tmp_path: Path) -> None:
    crowd = crowd_with_messi()
    crowd.row("w3", {"name": "Xavi", "caps": 133})
    server = FakeServer(crowd, status="complete")
    out = tmp_path / f"final-{fmt}"
    assert cli.run_export(export_args(out, format=fmt), server.api(), Pushes()) == 0
    card = [f"/api/tables/{TABLE}", f"/api/tables/{TABLE}/compensation"] if fmt == "hf" else []
    # The log is read with the schema (its model predictions, if any, are export fields), then
    # the rows; the rows' seq adds nothing to read here. CSV and JSONL of a finished table read
    # the rows from the streamed export, one line at a time, after its status.
    rows = (
        [f"/api/tables/{TABLE}", f"/api/tables/{TABLE}/export/candidates.jsonl"]
        if fmt in ("csv", "jsonl")
        else [f"/api/tables/{TABLE}/candidates"]
    )
    assert server.paths == [f"/api/tables/{TABLE}", f"/api/tables/{TABLE}/log", *rows, *card]
    (row,) = read(fmt, out, FIELDS)
    assert {k: row[k] for k in MESSI} == MESSI
    assert (row["up"], row["status"], row["contributors"]) == (2, "green", ["w1", "w2"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hf"])
def test_no_row_ids_leaves_out_the_row_id_field_and_keeps_the_rest(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"final-{fmt}"
    assert (
        cli.run_export(
            export_args(out, format=fmt, no_row_ids=True), FakeServer(crowd_with_messi()).api(), Pushes()
        )
        == 0
    )
    fields = [f for f in FIELDS if f.name != "row_id"]
    (row,) = read(fmt, out, fields)
    assert "row_id" not in row
    assert {k: row[k] for k in MESSI} == MESSI


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("what", ["final", "candidates"])
@pytest.mark.parametrize("no_row_ids", [False, True])
def test_a_finished_table_streams_to_the_same_file_a_live_one_is_written_as(
    fmt: str, what: str, no_row_ids: bool, tmp_path: Path
) -> None:
    crowd = crowd_with_messi()
    crowd.row("w3", {"name": "Xavi", "caps": 133})
    crowd.upvote("w4", crowd.row("w3", XAVI))
    finished, live = tmp_path / f"finished.{fmt}", tmp_path / f"live.{fmt}"
    options = {"format": fmt, "what": what, "no_row_ids": no_row_ids}
    streaming = FakeServer(crowd, status="closed")
    assert cli.run_export(export_args(finished, **options), streaming.api(), Pushes()) == 0
    reading = FakeServer(crowd, status="live")
    assert cli.run_export(export_args(live, **options), reading.api(), Pushes()) == 0

    assert f"/api/tables/{TABLE}/export/candidates.jsonl" in streaming.paths
    assert f"/api/tables/{TABLE}/candidates" not in streaming.paths
    assert f"/api/tables/{TABLE}/export/candidates.jsonl" not in reading.paths
    assert finished.read_bytes() == live.read_bytes()
    fields = [f for f in FIELDS if not (no_row_ids and f.name == "row_id")]
    rows = read(fmt, finished, fields)
    assert len(rows) == (2 if what == "final" else 3)
    assert all(row["contributors"] for row in rows)


def test_the_candidate_table_keeps_partial_rows_with_null_cells(tmp_path: Path) -> None:
    crowd = crowd_with_messi()
    crowd.row("w3", {"name": "Xavi", "caps": 133})
    out = tmp_path / "c.csv"
    assert cli.run_export(export_args(out, what="candidates"), FakeServer(crowd).api(), Pushes()) == 0
    rows = {row["name"]: row for row in read("csv", out, FIELDS)}
    assert (rows["Xavi"]["caps"], rows["Xavi"]["born"], rows["Xavi"]["status"]) == (133, None, "blue")


def test_a_push_without_a_hub_token_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = FakeServer(crowd_with_messi())
    pushes = Pushes()
    args = export_args(tmp_path / "f.csv", push_to_hub="someone/people")
    assert cli.run_export(args, server.api(), pushes, environ={}) == 2
    assert "HF_TOKEN" in capsys.readouterr().err
    assert pushes.calls == []
    assert server.requests == []
    assert not (tmp_path / "f.csv").exists()


def test_with_a_token_the_export_is_also_pushed(tmp_path: Path) -> None:
    pushes = Pushes()
    args = export_args(tmp_path / "f.parquet", format="parquet", push_to_hub="someone/people", private=True)
    server = FakeServer(crowd_with_messi())
    assert cli.run_export(args, server.api(), pushes, environ={"HF_TOKEN": "hf_x"}) == 0
    assert pushes.calls == [(1, "someone/people", "hf_x", True)]


def test_the_hub_token_comes_only_from_hf_token() -> None:
    assert hub_token({"HF_TOKEN": " hf_abc "}) == "hf_abc"
    with pytest.raises(HubNotConfigured):
        hub_token({"HUGGINGFACE_TOKEN": "hf_abc"})


def test_a_living_export_follows_the_collection_until_the_table_is_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crowd = crowd_with_messi()
    server = FakeServer(crowd)
    pushes = Pushes()
    out = tmp_path / "living.jsonl"
    seen: list[list[str]] = []

    def collection_goes_on(seconds: float) -> None:
        assert seconds == 5
        seen.append([str(r["name"]) for r in read("jsonl", out, FIELDS)])
        if len(seen) == 2:
            crowd.upvote("w4", crowd.row("w3", XAVI))
        if len(seen) == 3:
            server.status = "complete"

    args = export_args(out, format="jsonl", every=5.0, push_to_hub="someone/people")
    code = cli.run_export(args, server.api(), pushes, sleep=collection_goes_on, environ={"HF_TOKEN": "t"})
    assert code == 0
    assert seen == [["Messi"], ["Messi"], ["Messi", "Xavi"]]
    # An unchanged round neither rewrites nor pushes; the one that finds the table complete pushes
    # the same rows again with a card that says so.
    assert [rows for rows, *_ in pushes.calls] == [1, 2, 2]
    headers = [read_header(card)["crowdfill"] for card in pushes.cards]
    assert [(h["status"], h["num_rows"], h["cost_settled"]) for h in headers] == [
        ("live", 1, False),
        ("live", 2, False),
        ("complete", 2, True),
    ]
    assert (headers[0]["cost_cents"], headers[-1]["cost_cents"]) == (120, 300)
    assert headers[-1]["operations"] == len([op for op in crowd.log if op.worker != CENTRAL_CLIENT])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "round 2: unchanged"
    assert lines[-1].endswith("the table is complete")
    assert [row["name"] for row in read("jsonl", out, FIELDS)] == ["Messi", "Xavi"]


def test_a_living_export_stops_after_its_bound(tmp_path: Path) -> None:
    server = FakeServer(crowd_with_messi())
    naps: list[float] = []
    args = export_args(tmp_path / "x.csv", every=1.0, max_rounds=3)
    assert cli.run_export(args, server.api(), Pushes(), sleep=naps.append) == 0
    assert naps == [1.0, 1.0]
    assert server.paths.count(f"/api/tables/{TABLE}/candidates") == 3


def test_ctrl_c_stops_a_living_export_and_keeps_the_last_complete_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.parquet"

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    args = export_args(out, format="parquet", every=60.0)
    assert cli.run_export(args, FakeServer(crowd_with_messi()).api(), Pushes(), sleep=interrupted) == 130
    assert "holds the last complete export" in capsys.readouterr().err
    assert [r["name"] for r in read("parquet", out, FIELDS)] == ["Messi"]


def test_an_unknown_table_is_reported_with_the_servers_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = export_args(tmp_path / "x.csv", table="missing")
    assert cli.run_export(args, FakeServer(crowd_with_messi()).api(), Pushes()) == 1
    assert "404: table_not_found" in capsys.readouterr().err


def test_the_export_loop_refuses_nonsense_bounds() -> None:
    def once() -> Round:
        return Round(False, True, 0)

    with pytest.raises(ValueError, match="positive"):
        keep_exporting(once, 0, 3)
    with pytest.raises(ValueError, match="at least one"):
        keep_exporting(once, 1, 0)


def test_importing_the_crowdfill_command_does_not_import_datasets_or_pyarrow() -> None:
    # A fresh interpreter: this test process has imported datasets already (see the imports above).
    probe = "import sys, crowdfill.cli; print(sorted({'datasets', 'pandas', 'pyarrow'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
