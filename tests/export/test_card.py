"""The dataset card a Hugging Face export writes: read back from the exported directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from huggingface_hub import DatasetCard

from crowdfill import __version__
from crowdfill.export import cli
from crowdfill.export.card import CARD_NAME, read_header
from crowdfill.export.formats import read
from crowdfill.model import CENTRAL_CLIENT
from tests.export.support import LOG_START, TABLE, Crowd, FakeServer, export_args
from tests.export.test_cli import FIELDS, MESSI, XAVI, Pushes


def utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def crowd_of_two_rows() -> Crowd:
    crowd = Crowd()
    crowd.upvote("w2", crowd.row("w1", MESSI))
    crowd.upvote("w1", crowd.row("w3", XAVI))
    return crowd


def test_an_hf_export_writes_a_card_describing_how_the_data_was_made(tmp_path: Path) -> None:
    crowd = crowd_of_two_rows()
    out = tmp_path / "people-hf"
    assert cli.run_export(export_args(out, format="hf"), FakeServer(crowd, "complete").api(), Pushes()) == 0
    text = (out / CARD_NAME).read_text(encoding="utf-8")
    made = read_header(text)["crowdfill"]
    assert made["version"] == __version__
    assert (made["table_id"], made["status"], made["rows"], made["num_rows"]) == (
        TABLE,
        "complete",
        "final",
        2,
    )
    assert [c["name"] for c in made["schema"]["columns"]] == ["name", "born", "caps", "height", "active"]
    assert made["schema"]["key"] == ["name"]
    assert made["workers"] == 3
    assert made["operations"] == len([op for op in crowd.log if op.worker != CENTRAL_CLIENT])
    assert (made["cost_cents"], made["cost_settled"], made["budget_cents"]) == (300, True, 500)
    # The fake log's operations are one second apart from LOG_START (the first has seq 1).
    assert made["collection_start"] == utc(LOG_START + 1)
    assert made["collection_end"] == utc(LOG_START + len(crowd.log))
    assert "| up | integer | upvotes the row received" in text
    assert "| score | number |" in text
    assert f"Collected with [CrowdFill](https://github.com/crowdfill/crowdfill) {__version__}" in text
    # The Hub's own parser reads the header (what the dataset page shows).
    hub = DatasetCard(text).data.to_dict()  # type: ignore[no-untyped-call]  # huggingface_hub leaves it unannotated
    assert (hub["pretty_name"], hub["size_categories"]) == ("People", ["n<1K"])
    assert "crowdfill" in hub["tags"]
    # The card sits beside the data and does not disturb reading the dataset back.
    assert sorted(str(row["name"]) for row in read("hf", out, FIELDS)) == ["Messi", "Xavi"]


def test_a_live_tables_card_gives_the_estimated_cost_and_no_settlement(tmp_path: Path) -> None:
    out = tmp_path / "live-hf"
    assert cli.run_export(export_args(out, format="hf"), FakeServer(crowd_of_two_rows()).api(), Pushes()) == 0
    made = read_header((out / CARD_NAME).read_text(encoding="utf-8"))["crowdfill"]
    assert (made["status"], made["cost_cents"], made["cost_settled"]) == ("live", 120, False)
    assert "estimated, collection not settled" in (out / CARD_NAME).read_text(encoding="utf-8")


def test_other_formats_write_no_card(tmp_path: Path) -> None:
    out = tmp_path / "final.csv"
    assert cli.run_export(export_args(out), FakeServer(crowd_of_two_rows(), "complete").api(), Pushes()) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.csv"]
