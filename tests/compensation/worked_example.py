"""The worked example of docs/compensation.md: its log is read from the document, and its tables
are rendered here from the settlement; the test asserts the document shows exactly these tables."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from crowdfill.compensation import CompensationSettings, Estimator, Settlement
from crowdfill.model import CandidateTable, Downvote, Fill, Insert, Operation, Template, Upvote
from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS

DOC = Path(__file__).resolve().parents[2] / "docs" / "compensation.md"
SETTINGS = CompensationSettings(budget_cents=10_000, growth=1.1, vote_share=0.2)
_LINE = re.compile(
    r"^\s*(\d+)\s+(\w+)\s+(insert|fill|upvote|downvote)\s+(\w+)(?:\s*->\s*(\w+))?\s*:?\s*(.*)$"
)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def log_block(text: str) -> str:
    match = re.search(r"```log\n(.*?)```", text, re.DOTALL)
    assert match is not None, "docs/compensation.md has no ```log block"
    return match.group(1)


def parse_log(block: str) -> list[Operation]:
    """Operations from lines like ``7  alice  fill m1 -> m2: nationality=Argentina``."""
    ops: list[Operation] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        assert match is not None, f"cannot read log line {line!r}"
        number, worker, action, row, new_row, rest = match.groups()
        assert int(number) == len(ops) + 1, f"log line {line!r} is out of order"
        if action == "insert":
            pairs = [part.split("=", 1) for part in rest.split(",") if part.strip()]
            ops.append(Insert(row, SOCCER_PLAYER.normalise_values({k.strip(): v.strip() for k, v in pairs})))
        elif action == "fill":
            column, value = rest.split("=", 1)
            ops.append(Fill(worker, row, new_row or "", column.strip(), value.strip(), frozenset()))
        elif action == "upvote":
            ops.append(Upvote(worker, row, frozenset()))
        else:
            ops.append(Downvote(worker, row, frozenset()))
    return ops


def run(ops: list[Operation]) -> tuple[CandidateTable, list[Operation], Estimator]:
    """Apply the example's operations; return the table, the canonical log and a live estimator."""
    table = CandidateTable(SOCCER_PLAYER, template=Template.define(SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS))
    estimator = Estimator(table, SETTINGS)
    log: list[Operation] = []
    for op in ops:
        canonical = table.validate(op)
        table.integrate(canonical)
        estimator.observe(canonical)
        log.append(canonical)
    return table, log, estimator


def money(amount: Fraction) -> str:
    return f"{float(amount):.2f}"


def render_rows(settlement: Settlement) -> str:
    names = SOCCER_PLAYER.names
    lines = [
        "| rank | row | key | share | " + " | ".join(names) + " | agreeing voters |",
        "|" + "---|" * (len(names) + 5),
    ]
    for row in settlement.rows:
        cells = []
        for column, worker in row.fillers:
            cells.append(f"{worker or '(template)'} {money(settlement.fill_cents(row, column))}")
        voters = ", ".join(row.voters) if row.voters else "none"
        each = f" ({money(settlement.vote_cents_each(row))} each)" if row.voters else ""
        lines.append(
            f"| {row.rank} | {row.row_id} | {', '.join(str(v) for v in row.key)} | "
            f"{money(settlement.row_cents(row))} | " + " | ".join(cells) + f" | {voters}{each} |"
        )
    return "\n".join(lines)


def render_payments(settlement: Settlement) -> str:
    kinds = [*SOCCER_PLAYER.names, "vote"]
    header = "| worker | " + " | ".join(kinds) + " | earned | exact | paid |"
    lines = [header, "|" + "---|" * (len(kinds) + 4)]
    earned_total = Fraction(0)
    for worker, cents in settlement.payments.items():
        earned = settlement.earned(worker)
        earned_total += sum(earned.values(), Fraction(0))
        cells = [money(earned[k]) if k in earned else "" for k in kinds]
        cells += [money(sum(earned.values(), Fraction(0))), money(settlement.exact_cents(worker)), str(cents)]
        lines.append(f"| {worker} | " + " | ".join(cells) + " |")
    blanks = " | ".join("" for _ in kinds)
    lines.append(f"| **total** | {blanks} | {money(earned_total)} | | **{settlement.paid_cents}** |")
    return "\n".join(lines)


def render_closed(settlement: Settlement) -> str:
    """The same log settled as a table closed early: payments, then the unpaid cents by reason."""
    lines = ["| worker | paid if closed early |", "|---|---|"]
    lines.extend(f"| {worker} | {cents} |" for worker, cents in settlement.payments.items())
    lines.append(f"| **total paid** | **{settlement.paid_cents}** |")
    lines.extend(f"| unpaid: `{reason}` | {cents} |" for reason, cents in settlement.unpaid_reasons.items())
    return "\n".join(lines)


def render_estimates(estimator: Estimator, workers: list[str]) -> str:
    lines = ["| worker | estimated total | fill (any column) | vote |", "|---|---|---|---|"]
    for worker in workers:
        estimate = estimator.estimate(worker)
        fills = sorted(set(estimate["fill"].values()))
        lines.append(
            f"| {worker} | {estimate['total']} | {', '.join(str(f) for f in fills)} | {estimate['vote']} |"
        )
    return "\n".join(lines)
