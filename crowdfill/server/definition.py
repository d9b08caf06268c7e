"""Table definitions: the pydantic wire models (the REST edge) and the domain objects built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crowdfill.compensation import CompensationSettings
from crowdfill.markets import identity
from crowdfill.model import Column, CrowdFillError, Schema, Scoring, Template
from crowdfill.model.rules import ColumnRules
from crowdfill.server.failures import Failure, definition_failure
from crowdfill.server.gold import (
    GoldError,
    GoldRow,
    ScreeningRule,
    build_gold,
    build_screening,
    definition_json,
)
from crowdfill.server.quality_settings import DEFAULT_QUALITY, QualitySettings, quality_from
from crowdfill.server.ratelimit import RateLimit

# The wire models live in crowdfill.wire (the SDK shares them); re-exported for the server's modules.
from crowdfill.wire.definition import (
    ColumnModel,
    CompensationModel,
    DefinitionModel,
    DefinitionPatch,
    RateLimitModel,
    Scalar,
    SchemaModel,
    ScoringModel,
)

__all__ = [
    "PROLIFIC_COMPLETION_URL",
    "ColumnModel",
    "CompensationModel",
    "DefinitionModel",
    "DefinitionPatch",
    "RateLimitModel",
    "Scalar",
    "SchemaModel",
    "ScoringModel",
    "TableSpec",
    "build_spec",
    "patched",
    "spec_from_json",
]

# Prolific's own address lives with the other marketplace details; the server only adds the code.
PROLIFIC_COMPLETION_URL = identity.PROLIFIC_COMPLETION_URL + "?cc={code}"


@dataclass(frozen=True)
class TableSpec:
    """A validated definition: the JSON kept in the store and the domain objects it describes."""

    definition: dict[str, Any]
    name: str
    instructions: str
    schema: Schema
    scoring: Scoring
    template: Template
    compensation: CompensationSettings
    budget_cents: int
    prolific_completion_code: str | None
    # None: the server's default (Settings.rate_limit_*).
    rate_limit: RateLimit | None = None
    # Gold rows (crowdfill.server.gold) and the optional screening that uses the first of them.
    gold: tuple[GoldRow, ...] = ()
    screening: ScreeningRule | None = None
    quality: QualitySettings = DEFAULT_QUALITY

    @property
    def prolific_completion_url(self) -> str | None:
        code = self.prolific_completion_code
        return PROLIFIC_COMPLETION_URL.format(code=code) if code else None

    def schema_json(self) -> dict[str, Any]:
        return dict(self.definition["schema"])


# Optional column fields, left out of the stored definition when unset (help is the workers' hint).
_RULES = ("min", "max", "max_length", "pattern", "help")


def build_spec(model: DefinitionModel) -> TableSpec:
    """Domain objects for a definition; Failure (422) naming what is wrong when they cannot be built."""
    definition = model.model_dump(by_alias=True, mode="json")
    # Rules a column does not set are left out, so definitions without rules keep their shape.
    for column in definition["schema"]["columns"]:
        for rule in _RULES:
            if column.get(rule) is None:
                column.pop(rule, None)
    try:
        schema = Schema(
            tuple(
                Column(
                    c.name,
                    c.type,
                    tuple(c.domain) if c.domain is not None else None,
                    ColumnRules(c.min, c.max, c.max_length, c.pattern),
                )
                for c in model.table_schema.columns
            ),
            tuple(model.table_schema.key),
        )
        scoring = Scoring(
            model.scoring.family,
            model.scoring.min_votes,
            float(model.scoring.up_weight),
            float(model.scoring.down_weight),
        )
        template = Template.define(schema, model.template)
    except CrowdFillError as error:
        raise definition_failure(error) from error
    weights = model.compensation.column_weights
    unknown = sorted(set(weights or ()) - set(schema.names))
    if unknown:
        raise Failure("invalid_definition", f"compensation.column_weights names unknown columns {unknown}")
    try:
        compensation = CompensationSettings(
            budget_cents=model.budget_cents,
            growth=float(model.compensation.growth),
            column_weights={k: float(v) for k, v in weights.items()} if weights is not None else None,
            vote_share=float(model.compensation.vote_share),
            fooled_bonus_share=float(model.compensation.fooled_bonus_share or 0),
        )
    except CrowdFillError as error:
        raise Failure(error.code, f"compensation: {error.message}") from error
    try:
        gold = build_gold(schema, model.gold)
        screening = build_screening(model.screening, gold)
    except GoldError as error:
        raise Failure("invalid_definition", error.message) from error
    # Definitions without gold keep their shape; gold rows are stored with the ids they were given.
    definition.pop("gold", None)
    if gold:
        definition["gold"] = definition_json(gold, schema)
    if definition.get("screening") is None:
        definition.pop("screening", None)
    if definition.get("assistant") is None:
        definition.pop("assistant", None)  # no model in the loop: keep the older shape
    if definition["compensation"].get("fooled_bonus_share") is None:
        definition["compensation"].pop("fooled_bonus_share", None)  # unset: keep the older shape
    # The stored schema shows the key actually in force (it defaults to every column).
    definition["schema"]["key"] = list(schema.key)
    # ...and bounds in their column's canonical form ("10" -> 10 for an integer), which the worker
    # page compares values with.
    for stored, column in zip(definition["schema"]["columns"], schema.columns, strict=True):
        for rule, bound in (("min", column.rules.minimum), ("max", column.rules.maximum)):
            if bound is not None:
                stored[rule] = bound
    return TableSpec(
        definition=definition,
        name=model.name,
        instructions=model.instructions,
        schema=schema,
        scoring=scoring,
        template=template,
        compensation=compensation,
        budget_cents=model.budget_cents,
        prolific_completion_code=model.prolific_completion_code,
        rate_limit=(
            RateLimit(float(model.rate_limit.ops_per_second), model.rate_limit.burst)
            if model.rate_limit is not None
            else None
        ),
        gold=gold,
        screening=screening,
        quality=quality_from(model.quality),
    )


def spec_from_json(definition: dict[str, Any]) -> TableSpec:
    """Rebuild a stored definition (it was validated when stored)."""
    return build_spec(DefinitionModel.model_validate(definition))


def patched(definition: dict[str, Any], patch: DefinitionPatch) -> DefinitionModel:
    merged = dict(definition)
    changes = patch.model_dump(by_alias=True, exclude_unset=True, mode="json")
    scoring = changes.get("scoring")
    stored = definition.get("scoring")
    if isinstance(scoring, dict) and "family" not in scoring and isinstance(stored, dict):
        # A scoring patch that names no family keeps the draft's (and its other fields) rather
        # than falling back to the default family; one that names a family replaces the object,
        # so that family's own defaults apply.
        changes["scoring"] = {**stored, **scoring}
    merged.update(changes)
    return DefinitionModel.model_validate(merged)
