"""The domain's errors: one small hierarchy, each with a stable code and a message a person can act on.

They become HTTP or socket errors only at the edge (the server maps ``code``).
"""

from __future__ import annotations


class CrowdFillError(Exception):
    """Base of every error the model raises. A rejected operation changes nothing."""

    code = "crowdfill_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedMessage(CrowdFillError):
    """A payload that does not have the shape of an operation, event or definition."""

    code = "malformed"


class InvalidDefinition(CrowdFillError):
    """A schema, scoring or template the requester gave cannot be used."""

    code = "invalid_definition"


class InvalidSchema(InvalidDefinition):
    code = "invalid_schema"


class InvalidScoring(InvalidDefinition):
    code = "invalid_scoring"


class UnsatisfiableTemplate(InvalidDefinition):
    code = "unsatisfiable_template"


class InvalidOperation(CrowdFillError):
    """An operation that the current table refuses."""

    code = "invalid_operation"


class UnknownRow(InvalidOperation):
    code = "unknown_row"


class UnknownColumn(InvalidOperation):
    code = "unknown_column"


class CellAlreadyFilled(InvalidOperation):
    code = "cell_already_filled"


class OutsideDomain(InvalidOperation):
    code = "outside_domain"


class WrongType(InvalidOperation):
    code = "wrong_type"


class IncompleteRowUpvoted(InvalidOperation):
    code = "incomplete_row_upvoted"


class EmptyRowDownvoted(InvalidOperation):
    code = "empty_row_downvoted"


class DuplicateVote(InvalidOperation):
    code = "duplicate_vote"


class TemplateProtected(InvalidOperation):
    code = "template_protected"


class DuplicateRowId(InvalidOperation):
    code = "duplicate_row_id"


class ValueMismatch(InvalidOperation):
    code = "value_mismatch"


class TableClosed(InvalidOperation):
    code = "table_closed"


class FillerNotCounted(InvalidOperation):
    """A fill by a worker whose votes count for nothing (weight 0: quarantined or excluded)."""

    code = "filler_not_counted"


class InvalidPattern(InvalidSchema):
    """A column pattern outside the supported regular-expression subset (docs/protocol.md)."""

    code = "invalid_pattern"


class RuleViolated(InvalidOperation):
    """A value of the right type that breaks one of its column's rules; the code names the rule."""

    code = "rule_violated"


class ValueBelowMin(RuleViolated):
    code = "value_below_min"


class ValueAboveMax(RuleViolated):
    code = "value_above_max"


class ValueTooLong(RuleViolated):
    code = "value_too_long"


class PatternMismatch(RuleViolated):
    code = "pattern_mismatch"


class PatternTooCostly(RuleViolated):
    """Checking the value would take more steps than the pattern budget allows."""

    code = "pattern_too_costly"


class IntegerOutOfRange(InvalidOperation):
    """A whole number beyond ±(2**53 - 1), which browsers cannot hold exactly."""

    code = "integer_out_of_range"


class NoVoteToRetract(InvalidOperation):
    """A retract naming a row whose exact values carry no standing vote of the worker."""

    code = "no_vote_to_retract"


class RetractedVoteRecast(InvalidOperation):
    """The worker retracted this very vote (same sign, same values) and may not cast it again."""

    code = "vote_retracted"


class InvalidAnnotation(InvalidOperation):
    """A model annotation of the wrong kind or confidence, or a suggestion for a filled cell."""

    code = "invalid_annotation"
