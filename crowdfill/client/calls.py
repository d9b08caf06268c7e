"""Every requester endpoint as a ``Call``: method, path, query, body and how to read the answer.

The sync ``Client`` and the async ``AsyncClient`` send the same calls, so adding an endpoint is one
function here and a one-line method on each client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from crowdfill.client.errors import UnexpectedAnswer
from crowdfill.wire import answers as a
from crowdfill.wire import gold as g
from crowdfill.wire.definition import DefinitionModel, DefinitionPatch, GoldRowModel
from crowdfill.wire.row_history import RowHistory
from crowdfill.wire.webhooks import Delivery, EventType, Hook, HookRequest

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    read: Callable[[Any], T]
    params: Params | None = None
    body: Any = None
    # Whether a 503 answer may be retried (the server refused it before changing anything).
    retry: bool = field(default=True)
    # A non-JSON body (e.g. a CSV import) and its media type; ``body`` is then None.
    content: bytes | None = None
    content_type: str | None = None

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Content-Type": self.content_type} if self.content_type else None


def table_path(table_id: str, *rest: str) -> str:
    """``/api/tables/{table_id}/...`` with every part quoted."""
    return "/".join(["/api/tables", *(quote(part, safe="") for part in (table_id, *rest))])


def model(kind: type[M], what: str) -> Callable[[Any], M]:
    def read(answer: Any) -> M:
        try:
            return kind.model_validate(answer)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "answer"
            raise UnexpectedAnswer(
                f"{what} answered an unexpected shape: {where}: {problem['msg']}"
            ) from error

    return read


def field_of(kind: type[M], name: str, what: str) -> Callable[[Any], Any]:
    """Read ``answer[name]`` of a list answer such as ``{"tables": [...]}``."""
    read_model = model(kind, what)

    def read(answer: Any) -> Any:
        return getattr(read_model(answer), name)

    return read


def _definition(definition: DefinitionModel | Mapping[str, Any]) -> dict[str, Any]:
    """A definition as JSON; a mapping is validated here, so mistakes surface before the request."""
    checked = (
        definition if isinstance(definition, DefinitionModel) else DefinitionModel.model_validate(definition)
    )
    return checked.model_dump(by_alias=True, mode="json")


# ---------------------------------------------------------------- tables
def create_table(definition: DefinitionModel | Mapping[str, Any]) -> Call[a.Table]:
    return Call("POST", "/api/tables", model(a.Table, "POST /api/tables"), body=_definition(definition))


def list_tables() -> Call[list[a.Table]]:
    return Call("GET", "/api/tables", field_of(a.TableList, "tables", "GET /api/tables"))


def get_table(table_id: str) -> Call[a.Table]:
    path = table_path(table_id)
    return Call("GET", path, model(a.Table, f"GET {path}"))


def patch_table(table_id: str, patch: DefinitionPatch | Mapping[str, Any]) -> Call[a.Table]:
    checked = patch if isinstance(patch, DefinitionPatch) else DefinitionPatch.model_validate(patch)
    body = checked.model_dump(by_alias=True, exclude_unset=True, mode="json")
    path = table_path(table_id)
    return Call("PATCH", path, model(a.Table, f"PATCH {path}"), body=body)


def launch(table_id: str) -> Call[a.Table]:
    path = table_path(table_id, "launch")
    return Call("POST", path, model(a.Table, f"POST {path}"))


def duplicate(table_id: str) -> Call[a.Table]:
    """A new draft with the table's definition, named "<name> (copy)"."""
    path = table_path(table_id, "duplicate")
    return Call("POST", path, model(a.Table, f"POST {path}"))


def row_history(table_id: str, row_id: str) -> Call[RowHistory]:
    """Who made the row (the fills back to its template row) and who voted on it, when."""
    path = table_path(table_id, "rows", row_id, "history")
    return Call("GET", path, model(RowHistory, f"GET {path}"))


def close(table_id: str) -> Call[a.Table]:
    path = table_path(table_id, "close")
    return Call("POST", path, model(a.Table, f"POST {path}"))


# ---------------------------------------------------------------- rows
def candidates(table_id: str) -> Call[a.Candidates]:
    path = table_path(table_id, "candidates")
    return Call("GET", path, model(a.Candidates, f"GET {path}"))


def final(table_id: str) -> Call[a.FinalTable]:
    path = table_path(table_id, "final")
    return Call("GET", path, model(a.FinalTable, f"GET {path}"))


def matching(table_id: str) -> Call[a.Matching]:
    path = table_path(table_id, "matching")
    return Call("GET", path, model(a.Matching, f"GET {path}"))


def log_page(table_id: str, after_seq: int = 0, limit: int = 1000) -> Call[a.LogPage]:
    path = table_path(table_id, "log")
    return Call("GET", path, model(a.LogPage, f"GET {path}"), params={"after_seq": after_seq, "limit": limit})


def compensation(table_id: str) -> Call[a.Compensation]:
    path = table_path(table_id, "compensation")
    return Call("GET", path, model(a.Compensation, f"GET {path}"))


def audit(table_id: str) -> Call[a.Audit]:
    path = table_path(table_id, "audit")
    return Call("GET", path, model(a.Audit, f"GET {path}"))


EXPORTS = ("final.csv", "final.jsonl", "candidates.csv", "candidates.jsonl")


def export_path(table_id: str, name: str) -> str:
    return table_path(table_id, "export", name)


# ---------------------------------------------------------------- links and workers
def create_link(
    table_id: str, worker_id: str | None = None, expires_in_seconds: int | None = None
) -> Call[a.Link]:
    body: dict[str, Any] = {}
    if worker_id is not None:
        body["worker_id"] = worker_id
    if expires_in_seconds is not None:
        body["expires_in_seconds"] = expires_in_seconds
    path = table_path(table_id, "links")
    return Call("POST", path, model(a.Link, f"POST {path}"), body=body)


def links(table_id: str) -> Call[list[a.Link]]:
    path = table_path(table_id, "links")
    return Call("GET", path, field_of(a.LinkList, "links", f"GET {path}"))


def revoke_link(table_id: str, worker_id: str) -> Call[a.Revoked]:
    path = table_path(table_id, "links", worker_id)
    return Call("DELETE", path, model(a.Revoked, f"DELETE {path}"))


def workers(table_id: str) -> Call[list[a.Worker]]:
    path = table_path(table_id, "workers")
    return Call("GET", path, field_of(a.WorkerList, "workers", f"GET {path}"))


def block(table_id: str, worker_id: str) -> Call[a.WorkerState]:
    path = table_path(table_id, "workers", worker_id, "block")
    return Call("POST", path, model(a.WorkerState, f"POST {path}"))


def unblock(table_id: str, worker_id: str) -> Call[a.WorkerState]:
    path = table_path(table_id, "workers", worker_id, "block")
    return Call("DELETE", path, model(a.WorkerState, f"DELETE {path}"))


def reputation(table_id: str) -> Call[a.Reputation]:
    path = table_path(table_id, "reputation")
    return Call("GET", path, model(a.Reputation, f"GET {path}"))


def exclude(table_id: str, worker_id: str) -> Call[a.Standing]:
    path = table_path(table_id, "workers", worker_id, "exclusion")
    return Call("POST", path, model(a.Standing, f"POST {path}"))


def include(table_id: str, worker_id: str) -> Call[a.Standing]:
    path = table_path(table_id, "workers", worker_id, "exclusion")
    return Call("DELETE", path, model(a.Standing, f"DELETE {path}"))


# ---------------------------------------------------------------- marketplaces
def recruit_url(table_id: str, platform: str, study_id: str | None = None) -> Call[a.RecruitUrl]:
    body: dict[str, str] = {"platform": platform}
    if study_id is not None:
        body["study_id"] = study_id
    path = table_path(table_id, "recruit-urls")
    return Call("POST", path, model(a.RecruitUrl, f"POST {path}"), body=body)


def record_batch_hits(table_id: str, batch: str, hit_ids: list[str]) -> Call[a.BatchHits]:
    path = table_path(table_id, "recruit-urls", batch, "hits")
    return Call("POST", path, model(a.BatchHits, f"POST {path}"), body={"hit_ids": hit_ids})


# ---------------------------------------------------------------- webhooks
class _HookList(a.Answer):
    webhooks: list[Hook]


class _DeliveryList(a.Answer):
    deliveries: list[Delivery]


def create_webhook(table_id: str, url: str, events: list[EventType] | None = None) -> Call[Hook]:
    body = HookRequest(url=url, events=events).model_dump(exclude_none=True)
    path = table_path(table_id, "webhooks")
    # Not retried: a 503 after the hook was stored would register it twice.
    return Call("POST", path, model(Hook, f"POST {path}"), body=body, retry=False)


def webhooks(table_id: str) -> Call[list[Hook]]:
    path = table_path(table_id, "webhooks")
    return Call("GET", path, field_of(_HookList, "webhooks", f"GET {path}"))


def delete_webhook(table_id: str, hook_id: str) -> Call[a.Deleted]:
    path = table_path(table_id, "webhooks", hook_id)
    return Call("DELETE", path, model(a.Deleted, f"DELETE {path}"))


def deliveries(table_id: str, hook_id: str, limit: int = 100) -> Call[list[Delivery]]:
    path = table_path(table_id, "webhooks", hook_id, "deliveries")
    return Call("GET", path, field_of(_DeliveryList, "deliveries", f"GET {path}"), params={"limit": limit})


# ---------------------------------------------------------------- gold rows
def gold_rows(table_id: str) -> Call[g.GoldRows]:
    path = table_path(table_id, "gold")
    return Call("GET", path, model(g.GoldRows, f"GET {path}"))


def add_gold_row(table_id: str, row: GoldRowModel | Mapping[str, Any]) -> Call[g.GoldRow]:
    checked = row if isinstance(row, GoldRowModel) else GoldRowModel.model_validate(row)
    path = table_path(table_id, "gold")
    # Not retried: a 503 after the row was stored would add it twice.
    body = checked.model_dump(mode="json", exclude_none=True)
    return Call("POST", path, model(g.GoldRow, f"POST {path}"), body=body, retry=False)


def remove_gold_row(table_id: str, gold_id: str) -> Call[g.GoldRemoved]:
    path = table_path(table_id, "gold", gold_id)
    return Call("DELETE", path, model(g.GoldRemoved, f"DELETE {path}"))


def import_gold_csv(table_id: str, text: str) -> Call[g.GoldImported]:
    path = table_path(table_id, "gold", "csv")
    return Call(
        "POST",
        path,
        model(g.GoldImported, f"POST {path}"),
        content=text.encode("utf-8"),
        content_type="text/csv",
        retry=False,
    )


def gold_answers(table_id: str) -> Call[list[g.GoldAnswer]]:
    path = table_path(table_id, "gold", "answers")
    return Call("GET", path, field_of(g.GoldAnswers, "gold", f"GET {path}"))
