"""The demo table: the paper's SoccerPlayer schema and template, launched, with one worker link."""

from __future__ import annotations

from crowdfill.model.examples import SOCCER_PLAYER, SOCCER_TEMPLATE_ROWS
from crowdfill.server.definition import DefinitionModel
from crowdfill.server.roster import IssuedLink, Roster
from crowdfill.server.tables import Tables

DEMO_NAME = "SoccerPlayer (demo)"


def demo_definition(budget_cents: int = 1000) -> DefinitionModel:
    columns = [
        {"name": c.name, "type": c.type, **({"domain": list(c.domain)} if c.domain is not None else {})}
        for c in SOCCER_PLAYER.columns
    ]
    return DefinitionModel.model_validate(
        {
            "name": DEMO_NAME,
            "instructions": (
                "Help us list international soccer players. Fill empty cells with facts you know; "
                "upvote rows you know are correct and downvote rows that are wrong."
            ),
            "schema": {"columns": columns, "key": list(SOCCER_PLAYER.key)},
            "scoring": {"family": "threshold", "min_votes": 2},
            "template": SOCCER_TEMPLATE_ROWS,
            "budget_cents": budget_cents,
        }
    )


async def ensure_demo(tables: Tables, roster: Roster) -> tuple[str, IssuedLink]:
    """The demo table's id (created and launched unless one exists) and its worker link.

    The link is the one issued by an earlier start when it still works, so the printed link names
    the same worker after every restart (a new one would be a new worker with no history).
    """
    existing = [r for r in await tables.list() if r.definition.get("name") == DEMO_NAME]
    if existing:
        table_id = existing[-1].table_id
    else:
        record = await tables.create(demo_definition())
        await tables.launch(record.table_id)
        table_id = record.table_id
    blocked = await roster.blocked(table_id)
    usable = [
        link
        for link in await roster.links(table_id)
        if not link.get("revoked") and link.get("expires_at") is None and link["worker_id"] not in blocked
    ]
    if usable:
        link = min(usable, key=lambda link: float(link["created_at"]))
        worker_id = str(link["worker_id"])
        return table_id, IssuedLink(
            worker_id,
            str(link["link_id"]),
            roster.token_for(table_id, worker_id, link),
            float(link["created_at"]),
            None,
        )
    return table_id, await roster.create_link(table_id, None, None)
