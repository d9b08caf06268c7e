"""Gold rows: complete rows with a known verdict, mixed into the live table to measure the voters.

A definition's ``gold`` list is validated here (complete rows that fit the schema, no duplicates)
and each row gets the id it will carry in the table, in the shape of the ids the worker page gives
the rows its fills add ("w-" + 24 hex digits): a complete row in a worker's table nearly always comes
from a fill, so a gold row's id must look like one. At launch
the owner sequences one ``Insert(gold=True)`` per gold row (``gold_inserts``); the model keeps them
out of every key group, so they never reach the final table, the template matching or another
row's status. The flag lives only in the server's log: every operation that goes to a worker passes
through ``public_op``, which makes a gold insert a plain insert by the central client.

With screening, the first ``screening.gold_rows`` gold rows are the qualification's and are held
back from the live table, so a worker who passed cannot recognise gold rows there.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crowdfill.model import CandidateTable, CrowdFillError, Insert, Schema, Values

if TYPE_CHECKING:
    from crowdfill.server.definition import TableSpec
    from crowdfill.wire.definition import GoldRowModel, ScreeningModel

MAX_GOLD_ROWS = 1000


class GoldError(Exception):
    """A gold row the definition cannot hold; ``message`` names the row and the problem."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GoldRow:
    row_id: str
    values: Values
    verdict: bool


@dataclass(frozen=True)
class ScreeningRule:
    """How many gold rows a new worker answers first, and the fraction right that passes."""

    gold_rows: int
    pass_fraction: float


def new_gold_id() -> str:
    # The worker page's fill ids (web/js/worker.js newRowId): a complete row looks filled by a worker.
    return "w-" + secrets.token_hex(12)


def build_gold(schema: Schema, rows: Sequence[GoldRowModel]) -> tuple[GoldRow, ...]:
    """The definition's gold rows in canonical form, ids given where missing; GoldError if one is bad."""
    if len(rows) > MAX_GOLD_ROWS:
        raise GoldError(f"a table holds at most {MAX_GOLD_ROWS} gold rows, got {len(rows)}")
    built: list[GoldRow] = []
    seen_values: dict[Values, int] = {}
    seen_ids: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        where = f"gold row {number}"
        unknown = sorted(set(row.values) - set(schema.names))
        if unknown:
            raise GoldError(f"{where}: unknown column(s) {unknown}; columns are {list(schema.names)}")
        missing = [name for name in schema.names if name not in row.values]
        if missing:
            raise GoldError(
                f"{where} is incomplete: it has no value for {missing}; a gold row fills every column"
            )
        try:
            values = schema.normalise_values(dict(row.values))
        except CrowdFillError as error:
            raise GoldError(f"{where} breaks the column rules: {error.message}") from error
        if values in seen_values:
            raise GoldError(f"{where} duplicates gold row {seen_values[values]} (same values)")
        row_id = row.id or new_gold_id()
        if row_id in seen_ids:
            raise GoldError(f"{where} has the id {row_id!r} of gold row {seen_ids[row_id]}")
        seen_values[values] = number
        seen_ids[row_id] = number
        built.append(GoldRow(row_id, values, row.verdict))
    return tuple(built)


def build_screening(model: ScreeningModel | None, gold: Sequence[GoldRow]) -> ScreeningRule | None:
    if model is None:
        return None
    if model.gold_rows > len(gold):
        raise GoldError(
            f"screening asks for {model.gold_rows} gold row(s) but the table has {len(gold)}; "
            "add gold rows or lower screening.gold_rows"
        )
    return ScreeningRule(model.gold_rows, float(model.pass_fraction))


def gold_verdicts(definition: TableSpec) -> dict[Values, bool]:
    """Every gold row's values and verdict (the screening's included): what judges the voters."""
    return {row.values: row.verdict for row in definition.gold}


def gold_ids(definition: TableSpec) -> frozenset[str]:
    """The ids of the gold rows in the live table (screening rows are never inserted)."""
    return frozenset(row.row_id for row in live_gold(definition))


def screening_gold(definition: TableSpec) -> tuple[GoldRow, ...]:
    rule = definition.screening
    return definition.gold[: rule.gold_rows] if rule is not None else ()


def live_gold(definition: TableSpec) -> tuple[GoldRow, ...]:
    """The gold rows mixed into the live table."""
    rule = definition.screening
    return definition.gold[rule.gold_rows :] if rule is not None else definition.gold


def gold_inserts(definition: TableSpec, table: CandidateTable) -> list[Insert]:
    """The inserts of the live gold rows ``table`` does not hold yet (all of them at launch)."""
    return [
        Insert(row.row_id, row.values, gold=True)
        for row in live_gold(definition)
        if not table.known(row.row_id)
    ]


def public_op(op: dict[str, Any]) -> dict[str, Any]:
    """An operation's wire form as workers may see it: a gold insert loses its flag."""
    if op.get("gold") is True:
        return {name: value for name, value in op.items() if name != "gold"}
    return op


def logged_op(definition: TableSpec, op: dict[str, Any]) -> dict[str, Any]:
    """``public_op`` undone: the flag back on a gold row's insert, for a replica that learns the
    table from what the sequencing process published (another process of a cluster)."""
    if op.get("type") == "insert" and op.get("row_id") in gold_ids(definition):
        return {**op, "gold": True}
    return op


def replay_reveals_gold(table: CandidateTable, ops: Sequence[tuple[int, Mapping[str, Any]]]) -> bool:
    """Whether a reconnect replay holds a gold insert: an insert of a complete row is a tell, so the
    worker gets a snapshot instead (where every row is just its id and values)."""
    return any(op.get("type") == "insert" and table.is_gold(str(op.get("row_id"))) for _, op in ops)


def definition_json(rows: Sequence[GoldRow], schema: Schema) -> list[dict[str, Any]]:
    return [{"id": row.row_id, "values": schema.ordered(row.values), "verdict": row.verdict} for row in rows]


def answers(
    definition: TableSpec,
    table: CandidateTable | None,
    screened: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every gold row with each voter's answer: ``up`` / ``down``, and whether it was right.

    An upvote is right on a true row, a downvote on a false one. A downvote counted on a gold row
    through a part of its values (a voter downvoted an incomplete row) is the voter's answer too.
    Screening rows carry the answers of the screened workers (``screened``: worker -> outcome as
    crowdfill.server.screening stores it).
    """
    schema = definition.schema
    live = gold_ids(definition)
    entries = []
    for row in definition.gold:
        voters: list[dict[str, Any]] = []
        up: frozenset[str] = frozenset()
        down: frozenset[str] = frozenset()
        if table is not None and row.row_id in live and table.known(row.row_id):
            up, down = table.upvoters(row.row_id), table.downvoters(row.row_id)
        elif row.row_id not in live and screened:
            given = {w: o.get("answers", {}).get(row.row_id) for w, o in screened.items()}
            up = frozenset(w for w, a in given.items() if a == "up")
            down = frozenset(w for w, a in given.items() if a == "down")
        if up or down:
            for worker in sorted(up | down):
                answer = "up" if worker in up else "down"
                voters.append(
                    {"worker_id": worker, "answer": answer, "right": (answer == "up") == row.verdict}
                )
        entries.append(
            {
                "id": row.row_id,
                "values": schema.ordered(row.values),
                "verdict": row.verdict,
                "use": "live" if row.row_id in live else "screening",
                "votes": voters,
                "up": sum(1 for v in voters if v["answer"] == "up"),
                "down": sum(1 for v in voters if v["answer"] == "down"),
            }
        )
    return entries
