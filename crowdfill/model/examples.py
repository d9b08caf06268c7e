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

# The dynamic adversarial data collection demo: sentences a sentiment model gets wrong.
LABELS = ("positive", "negative")
SENTIMENT = Schema((Column("text"), Column("label", "text", LABELS)), ("text",))
# Five rows of each label; a worker writes the text for the label so that the model says the other.
SENTIMENT_TEMPLATE_ROWS: list[dict[str, object]] = [{"label": label} for label in LABELS for _ in range(5)]
