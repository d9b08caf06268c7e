"""The assistant runner beside a real owner: model answers become sequenced Annotate operations."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from crowdfill.assist import Prediction, Suggestion
from crowdfill.assist.http_model import HttpAssistant
from crowdfill.assist.vader import VaderAssistant
from crowdfill.model import MODEL_WORKER, Annotate, CandidateTable, Fill, Upvote, Value
from crowdfill.model.codec import operation_from_wire
from crowdfill.model.examples import SENTIMENT
from crowdfill.server.assistants import AssistantRunner, Attachment
from crowdfill.server.definition import spec_from_json
from crowdfill.server.owner import LIVE, TableOwner
from crowdfill.store import open_store
from crowdfill.store.port import Store
from tests.server.owner_support import QuietListener, launch_owner, logged_operations
from tests.support.live_server import test_settings
from tests.support.model_server import ModelServer

DADC: dict[str, Any] = {
    "name": "Sentiment",
    "instructions": "Write a sentence with the given label that the model gets wrong.",
    "schema": {
        "columns": [{"name": "text"}, {"name": "label", "domain": ["positive", "negative"]}],
        "key": ["text"],
    },
    "scoring": {"family": "threshold", "min_votes": 2},
    "template": [{"label": "positive"}, {"label": "negative"}],
    "budget_cents": 100,
}


class Hanging:
    """A model that never answers (its calls end only by the runner's timeout)."""

    name = "hanging"

    async def suggest(self, values: Mapping[str, Value], columns: Sequence[str]) -> list[Suggestion]:
        await asyncio.Event().wait()
        return []

    async def predict(self, values: Mapping[str, Value], column: str) -> Prediction | None:
        await asyncio.Event().wait()
        return None


async def launch_with(store: Store, runner: AssistantRunner, attachment: Attachment) -> TableOwner:
    owner = await launch_owner(store, DADC, table_id="t-dadc")
    owner._listener = runner  # the runner wraps the listener the way the app composes it
    runner.attach(owner.table_id, attachment)
    return owner


def template_row(owner: TableOwner, label: str) -> str:
    (row,) = [r.row_id for r in owner.table.rows() if dict(r.values) == {"label": label}]
    return row


async def annotations_of(store: Store, table_id: str, count: int) -> list[Annotate]:
    for _ in range(400):
        found = [op for _, op in await logged_operations(store, table_id) if isinstance(op, Annotate)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} annotation(s) in the log")


async def test_a_completed_row_gets_the_models_prediction_as_a_logged_operation() -> None:
    store = open_store("memory://")
    await store.open()
    runner = AssistantRunner(QuietListener())
    owner = await launch_with(store, runner, Attachment(VaderAssistant(), predict="label"))
    row = template_row(owner, "positive")
    done = await owner.submit(Fill("ann", row, "r1", "text", "What a dreadful, horrible day", frozenset()))
    assert done.published is not None

    (annotation,) = await annotations_of(store, owner.table_id, 1)
    assert (annotation.worker, annotation.kind, annotation.column, annotation.value) == (
        MODEL_WORKER,
        "prediction",
        "label",
        "negative",
    )
    kept = owner.table.annotation(owner.table.row("r1").values, "prediction", "label")
    assert kept == annotation
    assert owner.table.up("r1") == 1  # the filler's own upvote; the model's verdict is no vote
    await runner.stop()
    await owner.stop()


async def test_a_model_that_never_answers_times_out_and_the_table_keeps_working() -> None:
    store = open_store("memory://")
    await store.open()
    runner = AssistantRunner(QuietListener())
    owner = await launch_with(store, runner, Attachment(Hanging(), predict="label", timeout=0.05))
    row = template_row(owner, "positive")
    assert (await owner.submit(Fill("ann", row, "r1", "text", "fine", frozenset()))).published is not None
    assert (await owner.submit(Upvote("bob", "r1", frozenset()))).published is not None
    for _ in range(400):
        status = runner.status(owner.table_id)
        if status is not None and status["timeouts"] >= 1:
            break
        await asyncio.sleep(0.01)
    assert runner.status(owner.table_id) == {
        "name": "hanging",
        "predicts": "label",
        "calls": 1,
        "answers": 0,
        "failures": 0,
        "timeouts": 1,
        "dropped": 0,
        "last_error": "no answer within 0.05s",
    }
    assert not [op for _, op in await logged_operations(store, owner.table_id) if isinstance(op, Annotate)]
    await runner.stop()
    await owner.stop()


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    server = ModelServer()
    server.start()
    yield server
    server.stop()


async def test_a_model_server_that_goes_down_costs_only_its_annotations(model_server: ModelServer) -> None:
    store = open_store("memory://")
    await store.open()
    runner = AssistantRunner(QuietListener())
    model = HttpAssistant(model_server.url, timeout=0.5, retries=0)
    owner = await launch_with(store, runner, Attachment(model, predict="label"))
    positive, negative = template_row(owner, "positive"), template_row(owner, "negative")
    assert (await owner.submit(Fill("ann", positive, "r1", "text", "so good", frozenset()))).published
    await annotations_of(store, owner.table_id, 1)

    model_server.stop()
    assert (await owner.submit(Fill("bob", negative, "r2", "text", "so good too", frozenset()))).published
    for _ in range(400):
        status = runner.status(owner.table_id)
        if status is not None and status["failures"] >= 1:
            break
        await asyncio.sleep(0.01)
    status = runner.status(owner.table_id)
    assert status is not None
    assert "cannot reach" in status["last_error"]
    assert model.status.state == "down"
    assert (await owner.submit(Upvote("cat", "r2", frozenset()))).published is not None
    assert len(await annotations_of(store, owner.table_id, 1)) == 1
    await runner.stop()
    await owner.stop()


async def test_a_restarted_owner_replays_the_annotations_and_a_replica_converges(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "t.sqlite3"))
    await store.open()
    runner = AssistantRunner(QuietListener())
    owner = await launch_with(store, runner, Attachment(VaderAssistant(), predict="label"))
    row = template_row(owner, "negative")
    await owner.submit(Fill("ann", row, "r1", "text", "I love it, wonderful", frozenset()))
    await annotations_of(store, owner.table_id, 1)
    await runner.stop()
    await owner.stop()
    before = owner.table.fingerprint()

    again = TableOwner(owner.table_id, spec_from_json(DADC), LIVE, store, test_settings(), QuietListener())
    await again.load()
    assert again.table.fingerprint() == before
    replica = CandidateTable(SENTIMENT, again.table.scoring, again.table.template)
    for record in reversed(await store.read_log(owner.table_id)):
        replica.integrate(operation_from_wire(record.operation))
    assert replica.fingerprint() == before
    await again.stop()
    await store.close()
