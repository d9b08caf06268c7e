"""A model in the loop named in a table's definition: checked when the definition is stored, and
turned into the runner's ``Attachment`` when the table runs (at launch and again after a restart).

Over REST a requester names a built-in model (``vader``, ``http``) or one an installed package
publishes under the ``crowdfill.assistants`` entry-point group: the server operator decided what
is installed. ``module:attribute`` names would let a requester import any module on the server,
so they are refused here; the operator attaches those with ``serve --assistant``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from crowdfill.assist import load_assistant
from crowdfill.assist.errors import InvalidAssistant
from crowdfill.model import Schema
from crowdfill.server.attachment import Attachment
from crowdfill.server.failures import Failure

INVALID = "invalid_assistant"


def attachment_of(definition: Mapping[str, Any], schema: Schema) -> Attachment | None:
    """The definition's ``assistant`` built into an attachment (None without one).

    Failure ``invalid_assistant`` (422) names what is wrong: an unknown model, options it does not
    take, a column the schema lacks, or nothing asked of the model.
    """
    spec = definition.get("assistant")
    if spec is None:
        return None
    name = str(spec["model"])
    if ":" in name:
        raise Failure(
            INVALID,
            f"assistant.model {name!r}: a table names a built-in model (vader, http) or an installed "
            "one by its short name; 'module:attribute' models are attached by the server operator "
            "(serve --assistant)",
        )
    predict = spec.get("predict")
    suggest = bool(spec.get("suggest", False))
    if predict is None and not suggest:
        raise Failure(
            INVALID, "assistant: set predict (a column) or suggest: true, or the model has nothing to do"
        )
    if predict is not None and predict not in schema.names:
        raise Failure(
            INVALID,
            f"assistant.predict names {predict!r}, which is not a column of the schema {list(schema.names)}",
        )
    try:
        model = load_assistant(name, dict(spec.get("options") or {}))
    except InvalidAssistant as error:
        raise Failure(INVALID, f"assistant: {error.message}") from error
    return Attachment(model, predict, suggest, float(spec.get("timeout", 2.0)))


async def check_assistant(definition: Mapping[str, Any], schema: Schema) -> None:
    """Refuse a definition whose model cannot be attached; the model built to check it is closed."""
    # Building a model may read files (VADER's lexicon): off the event loop, which serves the tables.
    attachment = await asyncio.to_thread(attachment_of, definition, schema)
    close = getattr(attachment.assistant, "aclose", None) if attachment is not None else None
    if close is not None:
        await close()
