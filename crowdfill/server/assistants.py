"""Models in the loop, beside the table owners: the runner that calls a table's assistant.

``AssistantRunner`` wraps the owners' listener. When a batch is published it only *queues* the
rows the model should see (put_nowait, never a wait): a completed row for a ``prediction`` of
the table's label column, an incomplete one for ``suggestion``s of its empty cells. One task per
table takes the queue, calls the model with a timeout and submits each answer as an ``Annotate``
operation from worker ``model`` through ``owner.submit``, so it is sequenced, logged and
forwarded like any operation and every replica converges. A model that is slow, down or wrong
costs its own task time only: the owner goes on, and the runner counts the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crowdfill.assist import AssistantError
from crowdfill.model import MODEL_WORKER, Annotate, Value
from crowdfill.model.values import values_from_mapping
from crowdfill.server.attachment import Attachment
from crowdfill.server.failures import Failure
from crowdfill.server.owner import LIVE, OwnerListener, Published, TableOwner
from crowdfill.server.table_assistant import attachment_of

__all__ = ["AssistantRunner", "Attachment", "Counters"]

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
BATCH_LIMIT = 64
LINGER_SECONDS = 0.05


@dataclass
class Counters:
    calls: int = 0
    answers: int = 0
    failures: int = 0
    timeouts: int = 0
    dropped: int = 0
    last_error: str = ""
    started: float = field(default_factory=time.monotonic)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "answers": self.answers,
            "failures": self.failures,
            "timeouts": self.timeouts,
            "dropped": self.dropped,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class _Job:
    kind: str  # "prediction" | "suggestion"
    row_id: str
    values: dict[str, Value]
    columns: tuple[str, ...]


class _Lane:
    """One table's queue and the task that drains it."""

    def __init__(self, owner: TableOwner, attachment: Attachment) -> None:
        self.owner = owner
        self.attachment = attachment
        self.counters = Counters()
        self.queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.task = asyncio.create_task(self._run(), name=f"assistant:{owner.table_id}")

    def offer(self, job: _Job) -> None:
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            self.counters.dropped += 1  # the model is behind: the row goes unannotated

    async def _run(self) -> None:
        while True:
            jobs = [await self.queue.get()]
            if LINGER_SECONDS > 0:
                # A moment for the rows of the next few batches to queue up too: their answers
                # then share one owner batch (one append, one forward burst) instead of one each.
                await asyncio.sleep(LINGER_SECONDS)
            while len(jobs) < BATCH_LIMIT and not self.queue.empty():
                jobs.append(self.queue.get_nowait())
            # The rows waiting now are asked together, and their answers submitted together, so
            # they share the owner's batches (one durable append) instead of one append each.
            answers = await asyncio.gather(*(self._ask(job) for job in jobs))
            annotations = [annotation for found in answers for annotation in found]
            outcomes = await asyncio.gather(*(self.owner.submit(a) for a in annotations))
            for annotation, outcome in zip(annotations, outcomes, strict=True):
                if outcome.failure is not None:
                    logger.info(
                        "table %s: the model's %s for row %s was refused (%s)",
                        self.owner.table_id,
                        annotation.kind,
                        annotation.row_id,
                        outcome.failure.code,
                    )

    async def _ask(self, job: _Job) -> list[Annotate]:
        attachment, counters = self.attachment, self.counters
        counters.calls += 1
        try:
            async with asyncio.timeout(attachment.timeout):
                if job.kind == "prediction":
                    column = job.columns[0]
                    # The verdict is the model's own: it must not see the cell it predicts.
                    others = {c: v for c, v in job.values.items() if c != column}
                    prediction = await attachment.assistant.predict(others, column)
                    answers = (
                        []
                        if prediction is None
                        else [(prediction.column, prediction.value, prediction.confidence)]
                    )
                else:
                    suggestions = await attachment.assistant.suggest(job.values, job.columns)
                    answers = [(s.column, s.value, s.confidence) for s in suggestions]
        except TimeoutError:
            counters.timeouts += 1
            counters.last_error = f"no answer within {attachment.timeout:g}s"
            return []
        except AssistantError as error:
            counters.failures += 1
            counters.last_error = error.message
            return []
        except Exception as error:
            # A requester's own model may raise anything: it must not stop this table's lane.
            logger.exception("table %s: the model %r failed", self.owner.table_id, attachment.assistant.name)
            counters.failures += 1
            counters.last_error = f"{type(error).__name__}: {error}"
            return []
        counters.answers += 1
        values = values_from_mapping(job.values)
        kind: Any = job.kind
        return [
            Annotate(MODEL_WORKER, job.row_id, kind, column, value, confidence, values)
            for column, value, confidence in answers
            if column in job.columns
        ]


class AssistantRunner:
    """An ``OwnerListener`` (around ``inner``) that feeds published rows to the tables' models."""

    def __init__(self, inner: OwnerListener) -> None:
        self._inner = inner
        self._attached: dict[str, Attachment] = {}
        # Models named in the tables' definitions, built once per table (None: none or unusable).
        self._defined: dict[str, Attachment | None] = {}
        self._lanes: dict[str, _Lane] = {}
        # The server operator's model for every table without its own (``serve --assistant``).
        self.default: Attachment | None = None

    def attach(self, table_id: str, attachment: Attachment) -> None:
        self._attached[table_id] = attachment

    def attachment(self, table_id: str) -> Attachment | None:
        """The table's model: attached by the server, else named in its definition, else the default."""
        found = self._attached.get(table_id) or self._defined.get(table_id)
        return found if found is not None else self.default

    def _resolve(self, owner: TableOwner) -> Attachment | None:
        table_id = owner.table_id
        if table_id not in self._attached and table_id not in self._defined:
            self._defined[table_id] = _defined_model(owner)
        return self.attachment(table_id)

    async def _resolve_beside(self, owner: TableOwner) -> Attachment | None:
        """``_resolve`` with the model built in a thread: building may read files (a lexicon)."""
        table_id = owner.table_id
        if table_id not in self._attached and table_id not in self._defined:
            built = await asyncio.to_thread(_defined_model, owner)
            self._defined.setdefault(table_id, built)
        return self.attachment(table_id)

    def _lane(self, owner: TableOwner, attachment: Attachment) -> _Lane:
        lane = self._lanes.get(owner.table_id)
        if lane is None or lane.owner is not owner:
            if lane is not None:
                lane.task.cancel()
            lane = self._lanes[owner.table_id] = _Lane(owner, attachment)
        return lane

    def resume(self, owners: Iterable[TableOwner]) -> int:
        """Queue the live rows the tables' models have not answered yet (after a restart).

        Rows whose prediction (or a suggestion) is already in the log, replayed into the table, are
        skipped: the model is not asked twice, and no annotation is duplicated. Returns how many
        rows were queued.
        """
        queued = 0
        for owner in owners:
            attachment = self._resolve(owner)
            if attachment is None or owner.status != LIVE:
                continue
            lane = self._lane(owner, attachment)
            table, names = owner.table, owner.spec.schema.names
            for row in table.rows():
                values = dict(row.values)
                empty = tuple(name for name in names if name not in values)
                if not empty:
                    column = attachment.predict
                    if column is None or column not in values:
                        continue
                    if table.annotation(row.values, "prediction", column) is None:
                        lane.offer(_Job("prediction", row.row_id, values, (column,)))
                        queued += 1
                elif (
                    attachment.suggest
                    and values
                    and all(table.annotation(row.values, "suggestion", c) is None for c in empty)
                ):
                    lane.offer(_Job("suggestion", row.row_id, values, empty))
                    queued += 1
        return queued

    def status(self, table_id: str) -> dict[str, Any] | None:
        """The monitor's view of the table's model: its name and call counts, None without one."""
        attachment = self.attachment(table_id)
        if attachment is None:
            return None
        lane = self._lanes.get(table_id)
        counters = lane.counters if lane is not None else Counters()
        return {"name": attachment.assistant.name, "predicts": attachment.predict, **counters.to_dict()}

    def calls(self) -> int:
        return sum(lane.counters.calls for lane in self._lanes.values())

    async def stop(self) -> None:
        lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.task.cancel()
            # The lane ends by our cancellation; that CancelledError is the expected outcome.
            with contextlib.suppress(asyncio.CancelledError):
                await lane.task
        attachments = [*self._attached.values(), *self._defined.values(), self.default]
        for attachment in {id(a): a for a in attachments if a}.values():
            close = getattr(attachment.assistant, "aclose", None)
            if close is not None:
                await close()

    # ---------------------------------------------------------------- OwnerListener
    async def published(self, owner: TableOwner, entries: Sequence[Published]) -> None:
        await self._inner.published(owner, entries)
        attachment = await self._resolve_beside(owner)
        if attachment is None:
            return
        lane = self._lane(owner, attachment)
        schema = owner.spec.schema
        for entry in entries:
            op = entry.op
            kind = op.get("type")
            if kind not in ("fill", "insert"):
                continue
            row_id = op["new_row_id"] if kind == "fill" else op["row_id"]
            values: dict[str, Value] = dict(op.get("values") or {})
            empty = tuple(name for name in schema.names if name not in values)
            if not empty:
                if attachment.predict is not None and attachment.predict in values:
                    lane.offer(_Job("prediction", row_id, values, (attachment.predict,)))
            elif attachment.suggest and values:
                lane.offer(_Job("suggestion", row_id, values, empty))

    async def completed(self, owner: TableOwner) -> None:
        await self._inner.completed(owner)

    def changed(self, owner: TableOwner) -> None:
        self._inner.changed(owner)


def _defined_model(owner: TableOwner) -> Attachment | None:
    """The model the table's definition names, or None (none named, or it cannot be built now)."""
    try:
        return attachment_of(owner.spec.definition, owner.spec.schema)
    except Failure as error:
        # Checked when the definition was stored; a model uninstalled since is logged, and the
        # table runs without it.
        logger.warning("table %s: its model cannot be attached (%s)", owner.table_id, error.message)
        return None
