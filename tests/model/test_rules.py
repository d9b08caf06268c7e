"""Column rules (min, max, max_length, pattern) and the safe integer range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdfill.model import Column, InvalidSchema, Schema, Template, UnsatisfiableTemplate
from crowdfill.model.errors import (
    IntegerOutOfRange,
    InvalidPattern,
    PatternMismatch,
    RuleViolated,
    ValueAboveMax,
    ValueBelowMin,
    ValueTooLong,
)
from crowdfill.model.rules import ColumnRules
from crowdfill.model.schema import MAX_SAFE_INTEGER


def test_an_integer_beyond_the_browsers_exact_range_is_refused_with_its_own_code() -> None:
    column = Column("caps", "integer")
    huge = 10**5000  # too many digits for repr() under Python's default limit
    for raw in (2**53, -(2**53), 123456789012345678, "123456789012345678", 1e20, "1" * 40, 10**30, huge):
        with pytest.raises(IntegerOutOfRange, match="column 'caps'") as refused:
            column.normalise(raw)
        assert refused.value.code == "integer_out_of_range"


@given(st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER))
def test_every_safe_integer_is_accepted_as_int_text_and_whole_float(number: int) -> None:
    column = Column("n", "integer")
    assert column.normalise(number) == number
    assert column.normalise(str(number)) == number
    if abs(number) <= 2**52:
        assert column.normalise(float(number)) == number


BROKEN: list[tuple[Column, object, type[RuleViolated], str]] = [
    (Column("age", "integer", rules=ColumnRules(minimum=0)), -1, ValueBelowMin, "value_below_min"),
    (Column("age", "integer", rules=ColumnRules(maximum=150)), "151", ValueAboveMax, "value_above_max"),
    (
        Column("h", "number", rules=ColumnRules(minimum=0.5, maximum=2.5)),
        2.51,
        ValueAboveMax,
        "value_above_max",
    ),
    (
        Column("born", "date", rules=ColumnRules(minimum="1900-01-01")),
        "1899-12-31",
        ValueBelowMin,
        "value_below_min",
    ),
    (
        Column("born", "date", rules=ColumnRules(maximum="2020-02-29")),
        "2020-03-01",
        ValueAboveMax,
        "value_above_max",
    ),
    (Column("code", rules=ColumnRules(max_length=3)), "ABCD", ValueTooLong, "value_too_long"),
    (Column("code", rules=ColumnRules(pattern=r"[A-Z]{3}")), "AB1", PatternMismatch, "pattern_mismatch"),
]


@pytest.mark.parametrize(("column", "raw", "error", "code"), BROKEN)
def test_a_value_breaking_a_rule_is_refused_with_a_code_naming_the_rule(
    column: Column, raw: object, error: type[RuleViolated], code: str
) -> None:
    Schema((column,))  # the rules themselves are valid
    with pytest.raises(error, match=f"column {column.name!r}") as refused:
        column.normalise(raw)
    assert refused.value.code == code


def test_values_on_the_bounds_and_within_the_rules_are_accepted() -> None:
    schema = Schema(
        (
            Column("age", "integer", rules=ColumnRules(minimum=0, maximum=150)),
            Column("born", "date", rules=ColumnRules(minimum="1900-01-01", maximum="2020-12-31")),
            Column("code", rules=ColumnRules(max_length=4, pattern=r"[A-Z]+")),
            Column("name", rules=ColumnRules(max_length=2)),
        )
    )
    values = schema.normalise_values(
        {"age": "150", "born": "1900-01-01", "code": " ABCD ", "name": "Zoë"[:2]}
    )
    assert dict(values) == {"age": 150, "born": "1900-01-01", "code": "ABCD", "name": "Zo"}


def test_max_length_counts_code_points_not_utf16_units() -> None:
    column = Column("emoji", rules=ColumnRules(max_length=2))
    assert column.normalise("😀😀") == "😀😀"
    with pytest.raises(ValueTooLong):
        column.normalise("😀😀😀")


def test_bounds_are_stored_in_the_columns_canonical_form() -> None:
    schema = Schema((Column("n", "integer", rules=ColumnRules(minimum=1.0, maximum="10")),))
    rules = schema.column("n").rules
    assert (rules.minimum, rules.maximum) == (1, 10)
    assert type(rules.minimum) is int


UNUSABLE: list[tuple[Column, str]] = [
    (Column("t", rules=ColumnRules(minimum=1)), "min and max apply to integer, number and date"),
    (Column("b", "boolean", rules=ColumnRules(maximum=1)), "min and max apply"),
    (Column("n", "integer", rules=ColumnRules(max_length=3)), "max_length and pattern apply to text"),
    (Column("d", "date", rules=ColumnRules(pattern="x")), "max_length and pattern apply to text"),
    (Column("n", "integer", rules=ColumnRules(minimum=5, maximum=4)), "min 5 is above max 4"),
    (Column("d", "date", rules=ColumnRules(minimum="2020-13-01")), "min of column 'd'"),
    (Column("n", "integer", rules=ColumnRules(maximum=1.5)), "max of column 'n'"),
    (Column("n", "integer", rules=ColumnRules(maximum=2**60)), "max of column 'n'"),
    (Column("t", rules=ColumnRules(max_length=5000)), "max_length is at most"),
    (Column("t", "text", ("ab", "abcdef"), ColumnRules(max_length=3)), "domain of column 't' breaks a rule"),
    (Column("n", "integer", (1, 200), ColumnRules(maximum=100)), "above the maximum"),
]


@pytest.mark.parametrize(("column", "reason"), UNUSABLE)
def test_rules_that_do_not_fit_their_column_are_refused_at_definition(column: Column, reason: str) -> None:
    with pytest.raises(InvalidSchema, match=reason):
        Schema((column,))


def test_a_malformed_rule_is_refused_when_the_rules_are_built() -> None:
    with pytest.raises(InvalidSchema, match="max_length must be a whole number"):
        ColumnRules(max_length=0)
    with pytest.raises(InvalidPattern, match="lookaround"):
        ColumnRules(pattern="(?=a)")


def test_a_template_row_breaking_a_rule_is_refused_at_definition() -> None:
    schema = Schema((Column("code", rules=ColumnRules(pattern=r"[A-Z]{2}")), Column("n", "integer")))
    Template.define(schema, [{"code": "FR"}])
    with pytest.raises(UnsatisfiableTemplate, match="template row 2: 'fra' does not match the pattern"):
        Template.define(schema, [{"code": "FR"}, {"code": "fra"}])
