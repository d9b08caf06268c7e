"""Table definitions: the pydantic wire models (the REST edge) and the domain objects built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from crowdfill.compensation import CompensationSettings
from crowdfill.markets import identity
from crowdfill.model import Column, CrowdFillError, Schema, Scoring, Template
from crowdfill.model.pattern import MAX_PATTERN_LENGTH
from crowdfill.model.rules import ColumnRules
from crowdfill.server.failures import Failure, definition_failure
from crowdfill.server.ratelimit import RateLimit

Scalar = StrictStr | StrictBool | StrictInt | StrictFloat

# Prolific's own address lives with the other marketplace details; the server only adds the code.
PROLIFIC_COMPLETION_URL = identity.PROLIFIC_COMPLETION_URL + "?cc={code}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnModel(_Strict):
    name: StrictStr = Field(min_length=1, max_length=100)
    type: Literal["text", "integer", "number", "boolean", "date"] = "text"
    domain: list[Scalar] | None = Field(default=None, max_length=1000)
    # Column rules (docs/protocol.md); which fit which type is checked by the model's schema.
    min: StrictInt | StrictFloat | StrictStr | None = None
    max: StrictInt | StrictFloat | StrictStr | None = None
    max_length: StrictInt | None = None
    pattern: StrictStr | None = Field(default=None, max_length=MAX_PATTERN_LENGTH)


class SchemaModel(_Strict):
    columns: list[ColumnModel] = Field(min_length=1, max_length=64)
    key: list[StrictStr] = Field(default_factory=list, max_length=64)


class ScoringModel(_Strict):
    family: Literal["threshold", "difference", "majority", "weighted"] = "threshold"
    min_votes: StrictInt = 2
    up_weight: StrictFloat | StrictInt = 1.0
    down_weight: StrictFloat | StrictInt = 1.0


class CompensationModel(_Strict):
    growth: StrictFloat | StrictInt = 1.1
    column_weights: dict[str, StrictFloat | StrictInt] | None = None
    vote_share: StrictFloat | StrictInt = 0.2


class RateLimitModel(_Strict):
    """How fast one worker may send operations on this table (docs/protocol.md, "Limits")."""

    ops_per_second: StrictFloat | StrictInt = Field(gt=0, le=10_000)
    burst: StrictInt = Field(ge=1, le=100_000)


class DefinitionModel(_Strict):
    """A table definition as the requester sends it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: StrictStr = Field(min_length=1, max_length=200)
    instructions: StrictStr = Field(default="", max_length=20_000)
    # "schema" would shadow a BaseModel attribute, hence the alias.
    table_schema: SchemaModel = Field(alias="schema")
    scoring: ScoringModel = Field(default_factory=ScoringModel)
    template: list[dict[str, Scalar]] = Field(default_factory=list, max_length=10_000)
    budget_cents: StrictInt = Field(ge=0, le=10**10)
    compensation: CompensationModel = Field(default_factory=CompensationModel)
    prolific_completion_code: StrictStr | None = Field(default=None, max_length=200)
    rate_limit: RateLimitModel | None = None


class DefinitionPatch(_Strict):
    """Any subset of a definition's top-level fields (PATCH while draft)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    instructions: StrictStr | None = Field(default=None, max_length=20_000)
    table_schema: SchemaModel | None = Field(default=None, alias="schema")
    scoring: ScoringModel | None = None
    template: list[dict[str, Scalar]] | None = Field(default=None, max_length=10_000)
    budget_cents: StrictInt | None = Field(default=None, ge=0, le=10**10)
    compensation: CompensationModel | None = None
    prolific_completion_code: StrictStr | None = Field(default=None, max_length=200)
    rate_limit: RateLimitModel | None = None


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

    @property
    def prolific_completion_url(self) -> str | None:
        code = self.prolific_completion_code
        return PROLIFIC_COMPLETION_URL.format(code=code) if code else None

    def schema_json(self) -> dict[str, Any]:
        return dict(self.definition["schema"])


_RULES = ("min", "max", "max_length", "pattern")


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
        )
    except CrowdFillError as error:
        raise Failure(error.code, f"compensation: {error.message}") from error
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
    )


def spec_from_json(definition: dict[str, Any]) -> TableSpec:
    """Rebuild a stored definition (it was validated when stored)."""
    return build_spec(DefinitionModel.model_validate(definition))


def patched(definition: dict[str, Any], patch: DefinitionPatch) -> DefinitionModel:
    merged = dict(definition)
    merged.update(patch.model_dump(by_alias=True, exclude_unset=True, mode="json"))
    return DefinitionModel.model_validate(merged)
