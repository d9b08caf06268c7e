"""``Client``: the requester SDK over httpx, blocking (notebooks, scripts, the CLI commands)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self, TypeVar

import httpx

from crowdfill.client import calls
from crowdfill.client.calls import Call
from crowdfill.client.transport import DEFAULT_SERVER, Retry, check, headers, json_of, unreachable
from crowdfill.wire import answers as a
from crowdfill.wire import gold as g
from crowdfill.wire.definition import DefinitionModel, DefinitionPatch, GoldRowModel
from crowdfill.wire.row_history import RowHistory
from crowdfill.wire.webhooks import Delivery, EventType, Hook

T = TypeVar("T")


class Client:
    """The requester REST API of one server (docs/sdk.md). Use it as a context manager."""

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retry: Retry | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry if retry is not None else Retry()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers(token), timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- sending
    def send(self, call: Call[T]) -> T:
        """Send ``call``, retrying a 503 (see ``Retry``); its answer read into its model."""
        attempts = self.retry.attempts if call.retry else 1
        for attempt in range(attempts):
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.body,
                    content=call.content,
                    headers=call.headers,
                )
            except httpx.HTTPError as error:
                raise unreachable(self.base_url, error) from error
            if response.status_code == 503 and attempt + 1 < attempts:
                self._sleep(self.retry.delay(attempt, response))
                continue
            return call.read(json_of(call.method, call.path, response))
        raise AssertionError("unreachable: the last attempt returns or raises")

    # ---------------------------------------------------------------- tables
    def tables(self) -> list[a.Table]:
        return self.send(calls.list_tables())

    def table(self, table_id: str) -> a.Table:
        return self.send(calls.get_table(table_id))

    def create_table(self, definition: DefinitionModel | Mapping[str, Any]) -> a.Table:
        return self.send(calls.create_table(definition))

    def patch_table(self, table_id: str, patch: DefinitionPatch | Mapping[str, Any]) -> a.Table:
        return self.send(calls.patch_table(table_id, patch))

    def launch(self, table_id: str) -> a.Table:
        return self.send(calls.launch(table_id))

    def duplicate(self, table_id: str) -> a.Table:
        """A new draft with this table's definition (docs/protocol.md, "Duplicate a table")."""
        return self.send(calls.duplicate(table_id))

    def row_history(self, table_id: str, row_id: str) -> RowHistory:
        """Who made the row and who voted on it, when (docs/protocol.md, "Row history")."""
        return self.send(calls.row_history(table_id, row_id))

    def close_table(self, table_id: str) -> a.Table:
        return self.send(calls.close(table_id))

    # ---------------------------------------------------------------- rows
    def candidates(self, table_id: str) -> a.Candidates:
        return self.send(calls.candidates(table_id))

    def final(self, table_id: str) -> a.FinalTable:
        return self.send(calls.final(table_id))

    def matching(self, table_id: str) -> a.Matching:
        return self.send(calls.matching(table_id))

    def compensation(self, table_id: str) -> a.Compensation:
        return self.send(calls.compensation(table_id))

    def audit(self, table_id: str) -> a.Audit:
        return self.send(calls.audit(table_id))

    def log_page(self, table_id: str, after_seq: int = 0, limit: int = 1000) -> a.LogPage:
        return self.send(calls.log_page(table_id, after_seq, limit))

    def log(
        self, table_id: str, after_seq: int = 0, upto: int | None = None, page: int = 1000
    ) -> Iterator[a.LogEntry]:
        """The accepted operations after ``after_seq`` (up to ``upto``), fetched a page at a time."""
        while upto is None or after_seq < upto:
            entries = self.log_page(table_id, after_seq, page).ops
            for entry in entries:
                if upto is not None and entry.seq > upto:
                    return
                yield entry
                after_seq = entry.seq
            if len(entries) < page:
                return

    def export_lines(self, table_id: str, name: str = "final.jsonl") -> Iterator[str]:
        """The lines of a streamed export (``final.csv``, ``final.jsonl``, ``candidates.csv``, ...)."""
        path = calls.export_path(table_id, name)
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    check("GET", path, response)
                yield from response.iter_lines()
        except httpx.HTTPError as error:
            raise unreachable(self.base_url, error) from error

    def watch(self, table_id: str, every: float = 1.0) -> Iterator[a.Candidates]:
        """The candidate table each time it changed, checked every ``every`` seconds, until finished."""
        seen: tuple[int, str] | None = None
        while True:
            now = self.candidates(table_id)
            # Closing changes the status, not necessarily the rows: either counts as a change.
            if (now.seq, now.status) != seen:
                seen = (now.seq, now.status)
                yield now
            if now.finished:
                return
            self._sleep(every)

    # ---------------------------------------------------------------- links and workers
    def create_link(
        self, table_id: str, worker_id: str | None = None, expires_in_seconds: int | None = None
    ) -> a.Link:
        return self.send(calls.create_link(table_id, worker_id, expires_in_seconds))

    def links(self, table_id: str) -> list[a.Link]:
        return self.send(calls.links(table_id))

    def revoke_link(self, table_id: str, worker_id: str) -> a.Revoked:
        return self.send(calls.revoke_link(table_id, worker_id))

    def workers(self, table_id: str) -> list[a.Worker]:
        return self.send(calls.workers(table_id))

    def block(self, table_id: str, worker_id: str) -> a.WorkerState:
        return self.send(calls.block(table_id, worker_id))

    def unblock(self, table_id: str, worker_id: str) -> a.WorkerState:
        return self.send(calls.unblock(table_id, worker_id))

    def reputation(self, table_id: str) -> a.Reputation:
        """Every worker's reputation estimate, evidence, weight and status (docs/quality.md)."""
        return self.send(calls.reputation(table_id))

    def exclude(self, table_id: str, worker_id: str) -> a.Standing:
        """Exclude a worker: their votes stop counting and their work is not paid (undo: ``include``)."""
        return self.send(calls.exclude(table_id, worker_id))

    def include(self, table_id: str, worker_id: str) -> a.Standing:
        return self.send(calls.include(table_id, worker_id))

    # ---------------------------------------------------------------- marketplaces
    def recruit_url(self, table_id: str, platform: str, study_id: str | None = None) -> a.RecruitUrl:
        return self.send(calls.recruit_url(table_id, platform, study_id))

    def record_batch_hits(self, table_id: str, batch: str, hit_ids: list[str]) -> a.BatchHits:
        return self.send(calls.record_batch_hits(table_id, batch, hit_ids))

    # ---------------------------------------------------------------- webhooks
    def create_webhook(self, table_id: str, url: str, events: list[EventType] | None = None) -> Hook:
        return self.send(calls.create_webhook(table_id, url, events))

    def webhooks(self, table_id: str) -> list[Hook]:
        return self.send(calls.webhooks(table_id))

    def delete_webhook(self, table_id: str, hook_id: str) -> a.Deleted:
        return self.send(calls.delete_webhook(table_id, hook_id))

    def deliveries(self, table_id: str, hook_id: str, limit: int = 100) -> list[Delivery]:
        return self.send(calls.deliveries(table_id, hook_id, limit))

    # ---------------------------------------------------------------- gold rows
    def gold_rows(self, table_id: str) -> g.GoldRows:
        """The table's gold rows (with their ids) and its screening, if any."""
        return self.send(calls.gold_rows(table_id))

    def add_gold_row(self, table_id: str, row: GoldRowModel | Mapping[str, Any]) -> g.GoldRow:
        """Add ``{"values": {...}, "verdict": true|false}`` to a draft table; the answer has its id."""
        return self.send(calls.add_gold_row(table_id, row))

    def remove_gold_row(self, table_id: str, gold_id: str) -> g.GoldRemoved:
        return self.send(calls.remove_gold_row(table_id, gold_id))

    def import_gold_csv(self, table_id: str, text: str) -> g.GoldImported:
        """Add the gold rows of a CSV text (the schema's columns plus ``verdict``) to a draft table."""
        return self.send(calls.import_gold_csv(table_id, text))

    def gold_answers(self, table_id: str) -> list[g.GoldAnswer]:
        """Every gold row with each voter's answer and whether it was right."""
        return self.send(calls.gold_answers(table_id))
