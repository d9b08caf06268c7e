"""The pure CrowdFill domain model: schema, operations, votes, statuses, the final table.

Standard library only, deterministic, no I/O: state + operation -> new state + events.
"""

from __future__ import annotations

from crowdfill.model.errors import (
    CellAlreadyFilled,
    CrowdFillError,
    DuplicateRowId,
    DuplicateVote,
    EmptyRowDownvoted,
    FillerNotCounted,
    IncompleteRowUpvoted,
    InvalidAnnotation,
    InvalidDefinition,
    InvalidOperation,
    InvalidSchema,
    InvalidScoring,
    MalformedMessage,
    NoVoteToRetract,
    OutsideDomain,
    RetractedVoteRecast,
    TableClosed,
    TemplateProtected,
    UnknownColumn,
    UnknownRow,
    UnsatisfiableTemplate,
    ValueMismatch,
    WrongType,
)
from crowdfill.model.events import (
    Event,
    GroupRescored,
    RowAnnotated,
    RowInserted,
    RowReplaced,
    VoteRecorded,
    VoteRetracted,
)
from crowdfill.model.operations import (
    CENTRAL_CLIENT,
    MODEL_WORKER,
    Annotate,
    Downvote,
    Fill,
    Insert,
    Operation,
    Retract,
    Reweigh,
    Sequenced,
    Upvote,
)
from crowdfill.model.row import Row
from crowdfill.model.schema import Column, ColumnType, Schema
from crowdfill.model.scoring import Scoring
from crowdfill.model.status import Status
from crowdfill.model.table import CandidateTable, GroupKey
from crowdfill.model.template import Template
from crowdfill.model.values import Value, Values, values_from_mapping, values_to_dict

__all__ = [
    "CENTRAL_CLIENT",
    "MODEL_WORKER",
    "Annotate",
    "CandidateTable",
    "CellAlreadyFilled",
    "Column",
    "ColumnType",
    "CrowdFillError",
    "Downvote",
    "DuplicateRowId",
    "DuplicateVote",
    "EmptyRowDownvoted",
    "Event",
    "Fill",
    "FillerNotCounted",
    "GroupKey",
    "GroupRescored",
    "IncompleteRowUpvoted",
    "Insert",
    "InvalidAnnotation",
    "InvalidDefinition",
    "InvalidOperation",
    "InvalidSchema",
    "InvalidScoring",
    "MalformedMessage",
    "NoVoteToRetract",
    "Operation",
    "OutsideDomain",
    "Retract",
    "RetractedVoteRecast",
    "Reweigh",
    "Row",
    "RowAnnotated",
    "RowInserted",
    "RowReplaced",
    "Schema",
    "Scoring",
    "Sequenced",
    "Status",
    "TableClosed",
    "Template",
    "TemplateProtected",
    "UnknownColumn",
    "UnknownRow",
    "UnsatisfiableTemplate",
    "Upvote",
    "Value",
    "ValueMismatch",
    "Values",
    "VoteRecorded",
    "VoteRetracted",
    "WrongType",
    "values_from_mapping",
    "values_to_dict",
]
