"""The requester REST API's answers (docs/protocol.md) as the SDK reads them.

The models accept fields they do not name (``extra="allow"``): a server that has gained a field
still talks to an older SDK, and the new field is reachable as ``model.model_extra``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crowdfill.wire.gold import ScreeningOutcome

# Table statuses after which the final table and the settlement no longer change.
FINISHED_STATUSES = frozenset({"complete", "closed"})


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Table(Answer):
    id: str
    status: str
    definition: dict[str, Any]
    created_at: float = 0.0
    updated_at: float = 0.0
    seq: int = 0
    rows: int = 0
    final_rows: int = 0
    workers: int = 0
    workers_online: int = 0
    satisfied: bool = False
    worker_url: str = ""
    monitor_url: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def columns(self) -> list[tuple[str, str]]:
        """The schema's (name, type) pairs."""
        schema = self.definition.get("schema")
        columns = schema.get("columns") if isinstance(schema, dict) else None
        if not isinstance(columns, list):
            return []
        return [
            (str(c["name"]), str(c.get("type") or "text"))
            for c in columns
            if isinstance(c, dict) and isinstance(c.get("name"), str)
        ]


class TableList(Answer):
    tables: list[Table]


class CandidateRow(Answer):
    row_id: str
    values: dict[str, Any]
    up: int = 0
    down: int = 0
    score: float = 0.0
    status: str = ""
    group: list[Any] | None = None
    final: bool = False


class Candidates(Answer):
    seq: int
    status: str
    rows: list[CandidateRow]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class Row(Answer):
    row_id: str
    values: dict[str, Any]


class FinalTable(Answer):
    seq: int
    status: str
    satisfied: bool = False
    rows: list[Row]


class TemplateMatch(Answer):
    position: int
    values: dict[str, Any]
    row_id: str | None = None
    group: list[Any] | None = None
    final: bool = False
    waiting_for_votes: bool = False


class Matching(Answer):
    seq: int
    satisfied: bool = False
    template: list[TemplateMatch]


class LogEntry(Answer):
    seq: int
    at: float = 0.0
    op: dict[str, Any]


class LogPage(Answer):
    ops: list[LogEntry]
    last_seq: int = 0


class Compensation(Answer):
    """A settled table's ``settlement``, or a live one's ``workers`` estimates."""

    settled: bool
    budget_cents: int
    settlement: dict[str, Any] | None = None
    estimated_total_cents: int | None = None
    workers: dict[str, Any] | None = None


class Link(Answer):
    worker_id: str
    link_id: str = ""
    token: str | None = None
    created_at: float | None = None
    expires_at: float | None = None
    revoked: bool = False
    url: str | None = None


class LinkList(Answer):
    links: list[Link]


class Worker(Answer):
    worker_id: str
    online: bool = False
    sessions: int = 0
    ops: int = 0
    estimated_cents: int = 0
    blocked: bool = False
    # None: the table has no screening, or this worker has not answered it (crowdfill.wire.gold).
    screening: ScreeningOutcome | None = None


class WorkerList(Answer):
    workers: list[Worker]


class WorkerState(Answer):
    """The answer to blocking or unblocking a worker."""

    worker_id: str
    blocked: bool


class Standing(Answer):
    """The answer to excluding a worker or undoing it: how they count now."""

    worker_id: str
    seq: int = 0
    weight: float = 1.0
    counted: bool = True
    status: str = "counted"


class WorkerReputation(Answer):
    worker_id: str
    estimate: float
    evidence: int = 0
    gold_votes: int = 0
    weight: float = 1.0
    counted: bool = True
    status: str = "counted"


class Reputation(Answer):
    """``GET /api/tables/{id}/reputation``: every worker's estimate, weight and status."""

    table_id: str
    scoring: str
    seq: int = 0
    quality: dict[str, Any] = Field(default_factory=dict)
    workers: list[WorkerReputation] = Field(default_factory=list)


class Revoked(Answer):
    worker_id: str
    revoked: bool


class RecruitUrl(Answer):
    platform: str
    query: dict[str, str]
    url: str = ""
    batch: str | None = None
    signature: str | None = None
    study_id: str | None = None


class BatchHits(Answer):
    batch: str
    hit_ids: list[str]


class Deleted(Answer):
    deleted: bool = Field(default=True)


class AuditCheck(Answer):
    name: str
    ok: bool
    detail: str = ""


class Audit(Answer):
    """``GET /api/tables/{id}/audit``: the server's replay of the log, check by check."""

    table_id: str
    ok: bool
    operations: int = 0
    completion_seq: int | None = None
    checks: list[AuditCheck] = Field(default_factory=list)
    log_digest: str | None = None
    outcome_digest: str | None = None
