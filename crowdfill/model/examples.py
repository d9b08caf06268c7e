"""The paper's SoccerPlayer table: the demo table and the tests' running example."""

from __future__ import annotations

from crowdfill.model.schema import Column, Schema

POSITIONS = ("GK", "DF", "MF", "FW")

SOCCER_PLAYER = Schema(
    (
        Column("name"),
        Column("nationality"),
        Column("position", "text", POSITIONS),
        Column("caps", "integer"),
        Column("goals", "integer"),
    ),
    ("name", "nationality"),
)

# The paper's template: a forward of any nationality, a player from Brazil, one from Spain.
SOCCER_TEMPLATE_ROWS: list[dict[str, object]] = [
    {"position": "FW"},
    {"nationality": "Brazil"},
    {"nationality": "Spain"},
]
