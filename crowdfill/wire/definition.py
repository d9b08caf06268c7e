"""Table definitions on the wire: the pydantic shapes the requester sends (POST and PATCH a table).

Shared by the server's REST edge (which validates with them) and the SDK (which builds them), so
the two cannot drift. Pure pydantic: the server builds its domain objects from these.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from crowdfill.model.pattern import MAX_PATTERN_LENGTH
from crowdfill.model.scoring import DEFAULT_MIN_VOTES

Scalar = StrictStr | StrictBool | StrictInt | StrictFloat


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
    # Shown to workers under the column's name, as text (docs/protocol.md, "Column help").
    help: StrictStr | None = Field(default=None, max_length=500)


class SchemaModel(_Strict):
    columns: list[ColumnModel] = Field(min_length=1, max_length=64)
    key: list[StrictStr] = Field(default_factory=list, max_length=64)


ScoringFamily = Literal["threshold", "difference", "majority", "weighted", "reputation"]
# A definition without ``scoring`` gets reputation scoring (docs/quality.md, "Defaults"); one that
# names a family but no ``min_votes`` gets that family's default vote gate.
DEFAULT_FAMILY: ScoringFamily = "reputation"


class ScoringModel(_Strict):
    family: ScoringFamily = DEFAULT_FAMILY
    min_votes: StrictInt = DEFAULT_MIN_VOTES[DEFAULT_FAMILY]
    up_weight: StrictFloat | StrictInt = 1.0
    down_weight: StrictFloat | StrictInt = 1.0

    @model_validator(mode="before")
    @classmethod
    def _min_votes_of_the_family(cls, data: Any) -> Any:
        """Leaving ``min_votes`` out means the family's default (threshold 2, reputation 3)."""
        if isinstance(data, dict) and "min_votes" not in data:
            family = data.get("family", DEFAULT_FAMILY)
            if isinstance(family, str) and family in DEFAULT_MIN_VOTES:
                return {**data, "min_votes": DEFAULT_MIN_VOTES[family]}
        return data


class CompensationModel(_Strict):
    growth: StrictFloat | StrictInt = 1.1
    column_weights: dict[str, StrictFloat | StrictInt] | None = None
    vote_share: StrictFloat | StrictInt = 0.2
    # The part of the budget set aside for rows that fooled the model (docs/model-in-the-loop.md).
    fooled_bonus_share: StrictFloat | StrictInt | None = None


class RateLimitModel(_Strict):
    """How fast one worker may send operations on this table (docs/protocol.md, "Limits")."""

    ops_per_second: StrictFloat | StrictInt = Field(gt=0, le=10_000)
    burst: StrictInt = Field(ge=1, le=100_000)


class GoldRowModel(_Strict):
    """A gold row: a complete row with a known verdict (true: the row is right; false: it is wrong).

    ``id`` is the row id it will carry in the live table ("w-" + 24 hex digits, the shape of a
    worker's fill); the server gives one when it is left out.
    """

    id: StrictStr | None = Field(default=None, pattern=r"^w-[0-9a-f]{24}$")
    values: dict[str, Scalar]
    verdict: StrictBool


class ScreeningModel(_Strict):
    """A qualification before the live table: ``gold_rows`` gold rows to vote on, of which at least
    ``pass_fraction`` must be answered right (docs/quality.md, "Screening")."""

    gold_rows: StrictInt = Field(ge=1, le=100)
    pass_fraction: StrictFloat | StrictInt = Field(gt=0, le=1)


class QualityModel(_Strict):
    """Reputation and quarantine (docs/quality.md): the floor below which a worker's estimate stops
    counting, how far a weight must move before the server reweighs, and how often it looks."""

    floor: StrictFloat | StrictInt = Field(default=0.6, ge=0, lt=1)
    step: StrictFloat | StrictInt = Field(default=0.25, gt=0, le=1)
    every_ops: StrictInt = Field(default=10, ge=1, le=100_000)
    every_seconds: StrictFloat | StrictInt = Field(default=5.0, ge=0, le=3600)


class AssistantModel(_Strict):
    """A model in the loop for this table (docs/model-in-the-loop.md, "In the definition")."""

    # A built-in (``vader``, ``http``) or a name an installed package publishes; never module:attr.
    model: StrictStr = Field(min_length=1, max_length=200)
    options: dict[str, Scalar] = Field(default_factory=dict, max_length=50)
    predict: StrictStr | None = None
    suggest: StrictBool = False
    timeout: StrictFloat | StrictInt = Field(default=2.0, gt=0, le=60)


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
    gold: list[GoldRowModel] = Field(default_factory=list, max_length=1000)
    screening: ScreeningModel | None = None
    quality: QualityModel | None = None
    assistant: AssistantModel | None = None


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
    gold: list[GoldRowModel] | None = Field(default=None, max_length=1000)
    screening: ScreeningModel | None = None
    quality: QualityModel | None = None
    assistant: AssistantModel | None = None
