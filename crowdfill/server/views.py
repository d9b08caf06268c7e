"""Read models: the JSON shapes of tables, candidate rows, matchings and workers (docs/protocol.md).

Callers hold ``owner.lock`` while building them so they see published state only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crowdfill.assist.fooled import fooled_by_worker, fooled_rows
from crowdfill.model import CENTRAL_CLIENT, CandidateTable, GroupKey, Schema, Template
from crowdfill.model.values import values_to_dict
from crowdfill.server import gold
from crowdfill.server.fooled_bonus_view import fooled_bonus_view
from crowdfill.server.owner import TableOwner
from crowdfill.store.port import TableRecord


def group_json(group: GroupKey) -> list[Any]:
    if group[0] == "key":
        return ["key", list(group[1])]
    return ["row", group[1]]


def candidate_rows(table: CandidateTable) -> list[dict[str, Any]]:
    return list(iter_candidate_rows(table))


def iter_candidate_rows(table: CandidateTable) -> Iterator[dict[str, Any]]:
    """``candidate_rows`` one row at a time (exports of a finished table stream it)."""
    final = {row.row_id for row in table.final_table()}
    return (
        {
            "row_id": row.row_id,
            "values": table.schema.ordered(row.values),
            "up": table.up(row.row_id),
            "down": table.down(row.row_id),
            "score": table.score(row.row_id),
            "status": table.status(row.row_id).value,
            "group": group_json(table.group_of(row.row_id)),
            "final": row.row_id in final,
        }
        for row in table.rows()
        if not table.is_gold(row.row_id)  # listed apart (crowdfill.server.gold.answers)
    )


def plain_rows(table: CandidateTable, final: bool = False) -> list[dict[str, Any]]:
    rows = table.final_table() if final else table.rows()
    return [{"row_id": row.row_id, "values": table.schema.ordered(row.values)} for row in rows]


def template_rows(schema: Schema, template: Template) -> list[dict[str, Any]]:
    """The template's rows (column -> value), so worker pages can hide the downvotes the server refuses."""
    return [schema.ordered(values) for values in template.rows]


def matching(owner: TableOwner) -> list[dict[str, Any]]:
    table = owner.table
    template = table.template
    satisfaction = owner.central.satisfaction()
    groups = owner.central.matching()
    waiting = set(owner.central.waiting_for_votes())
    entries = []
    for position, wanted in enumerate(template.rows):
        row_id: str | None = None
        final = False
        if satisfaction is not None and position in satisfaction:
            row_id, final = satisfaction[position], True
        elif position in groups:
            row_id = next(
                (row.row_id for row in table.probable_rows(groups[position]) if wanted <= row.values), None
            )
        group = group_json(table.group_of(row_id)) if row_id is not None and row_id in table else None
        entries.append(
            {
                "position": position,
                "values": values_to_dict(wanted),
                "row_id": row_id,
                "group": group,
                "final": final,
                "waiting_for_votes": position in waiting,
            }
        )
    return entries


def workers(owner: TableOwner | None, online: Mapping[str, int], blocked: set[str]) -> list[dict[str, Any]]:
    known: set[str] = set(online) | blocked
    counts: Mapping[str, int] = {}
    if owner is not None:
        # The model in the loop has its own line on the monitor ("Model in the loop"), not a worker's.
        counts = owner.people_ops()
        known |= set(counts)
    entries = []
    for worker in sorted(known):
        estimated = _estimated(owner, worker)
        entries.append(
            {
                "worker_id": worker,
                "online": online.get(worker, 0) > 0,
                "sessions": online.get(worker, 0),
                "ops": counts.get(worker, 0),
                "estimated_cents": estimated,
                "blocked": worker in blocked,
            }
        )
    return entries


def _estimated(owner: TableOwner | None, worker: str) -> int:
    if owner is None:
        return 0
    if owner.settlement is not None:
        return int(owner.settlement.payments.get(worker, 0))
    return int(owner.estimator.estimate(worker)["total"])


def spend(owner: TableOwner | None, budget_cents: int) -> dict[str, Any]:
    if owner is None:
        return {"estimated_cents": 0, "budget_cents": budget_cents, "paid_cents": None}
    if owner.settlement is not None:
        paid = int(owner.settlement.paid_cents)
        return {"estimated_cents": paid, "budget_cents": budget_cents, "paid_cents": paid}
    total = sum(
        int(owner.estimator.estimate(worker)["total"])
        for worker in owner.ops_by_worker
        if worker != CENTRAL_CLIENT
    )
    return {"estimated_cents": min(total, budget_cents), "budget_cents": budget_cents, "paid_cents": None}


def table_json(
    record: TableRecord, owner: TableOwner | None, online: Mapping[str, int], base_url: str
) -> dict[str, Any]:
    table = owner.table if owner is not None else None
    return {
        "id": record.table_id,
        "status": owner.status if owner is not None else record.status,
        "definition": record.definition,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "seq": owner.seq if owner is not None else 0,
        "rows": len(table) - len(table.gold_ids()) if table is not None else 0,  # gold rows apart
        "final_rows": len(table.final_table()) if table is not None else 0,
        "workers": len(owner.people_ops()) if owner else 0,
        "workers_online": sum(1 for n in online.values() if n > 0),
        "satisfied": bool(owner is not None and owner.central.satisfied),
        "worker_url": f"{base_url}/w/{record.table_id}",
        "monitor_url": f"{base_url}/tables/{record.table_id}/monitor",
    }


def summary_table_json(
    record: TableRecord, summary: Mapping[str, Any], online: Mapping[str, int], base_url: str
) -> dict[str, Any]:
    """``table_json`` of a table that is not loaded, from its stored summary (``finished``)."""
    return {
        "id": record.table_id,
        "status": record.status,
        "definition": record.definition,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "seq": int(summary["seq"]),
        "rows": int(summary["rows"]),
        "final_rows": int(summary["final_rows"]),
        "workers": int(summary["workers"]),
        "workers_online": sum(1 for n in online.values() if n > 0),
        "satisfied": bool(summary["satisfied"]),
        "worker_url": f"{base_url}/w/{record.table_id}",
        "monitor_url": f"{base_url}/tables/{record.table_id}/monitor",
    }


def monitor_json(
    record: TableRecord, owner: TableOwner | None, online: Mapping[str, int], blocked: set[str]
) -> dict[str, Any]:
    definition = record.definition
    budget = int(definition["budget_cents"])
    return {
        "table": {
            "id": record.table_id,
            "name": definition["name"],
            "status": owner.status if owner is not None else record.status,
            "budget_cents": budget,
            "schema": definition["schema"],
        },
        "seq": owner.seq if owner is not None else 0,
        "rows": candidate_rows(owner.table) if owner is not None else [],
        "matching": matching(owner) if owner is not None else [],
        "satisfied": bool(owner is not None and owner.central.satisfied),
        "workers": workers(owner, online, blocked),
        "workers_online": sum(1 for n in online.values() if n > 0),
        "spend": spend(owner, budget),
        "fooled": fooled(owner),
        "gold": gold.answers(owner.spec, owner.table) if owner is not None else [],
    }


def fooled(owner: TableOwner | None) -> dict[str, Any]:
    """Final rows the model in the loop got wrong, in all and per worker who wrote them."""
    if owner is None:
        return {"total": 0, "by_worker": {}}
    rows = fooled_rows(owner.table, owner.fill_authors())
    return {"total": len(rows), "by_worker": fooled_by_worker(rows), **fooled_bonus_view(owner)}
