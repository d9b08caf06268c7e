"""The dynamic adversarial data collection demo: a sentiment table with the built-in model beside it.

Workers write the text for a row's label so that the model predicts the other label; other
workers vote on whether the text really carries it. Rows the crowd confirms and the model got
wrong are the collection's yield ("fooled the model"; docs/model-in-the-loop.md).
"""

from __future__ import annotations

from crowdfill.assist.vader import VaderAssistant
from crowdfill.model.examples import SENTIMENT, SENTIMENT_TEMPLATE_ROWS
from crowdfill.server.assistants import AssistantRunner, Attachment
from crowdfill.server.definition import DefinitionModel
from crowdfill.server.roster import IssuedLink, Roster
from crowdfill.server.tables import Tables
from crowdfill.store.port import TableRecord

DADC_NAME = "Sentiment DADC (demo)"


def dadc_definition(budget_cents: int = 1000) -> DefinitionModel:
    return DefinitionModel.model_validate(dadc_definition_data(budget_cents))


def dadc_definition_data(budget_cents: int = 1000) -> dict[str, object]:
    """The demo's definition as the REST API takes it."""
    columns = [
        {"name": c.name, "type": c.type, **({"domain": list(c.domain)} if c.domain is not None else {})}
        for c in SENTIMENT.columns
    ]
    return {
        "name": DADC_NAME,
        "instructions": (
            "Write a sentence that really has the row's label (positive or negative) but that the "
            "sentiment model gets wrong: after you save it you see what the model said. Vote on "
            "other workers' sentences: upvote if the sentence truly carries its label, downvote if not."
        ),
        "schema": {"columns": columns, "key": list(SENTIMENT.key)},
        "scoring": {"family": "threshold", "min_votes": 2},
        "template": SENTIMENT_TEMPLATE_ROWS,
        "budget_cents": budget_cents,
        # The built-in model, named in the definition: it is attached at launch and after restarts.
        "assistant": {"model": "vader", "predict": "label"},
        # A fifth of the budget rewards the sentences that fooled it.
        "compensation": {"fooled_bonus_share": 0.2},
    }


async def ensure_dadc_demo(
    tables: Tables, roster: Roster, assistants: AssistantRunner
) -> tuple[str, IssuedLink, IssuedLink]:
    """The DADC demo table (created and launched unless one exists), its model, and two worker links."""
    existing = [r for r in await tables.list() if r.definition.get("name") == DADC_NAME]
    if existing:
        table_id = existing[-1].table_id
    else:
        record = await tables.create(dadc_definition())
        table_id = record.table_id
    if "assistant" not in existing_definition(existing):
        # A demo table made before models were named in definitions gets its model from here.
        assistants.attach(table_id, Attachment(VaderAssistant(), predict="label", suggest=False))
    if not existing:
        await tables.launch(table_id)
    writer = await roster.create_link(table_id, None, None)
    voter = await roster.create_link(table_id, None, None)
    return table_id, writer, voter


def existing_definition(existing: list[TableRecord]) -> dict[str, object]:
    return existing[-1].definition if existing else dadc_definition_data()
