"""The wire codec: operations and events to and from plain JSON-able dicts, with validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from crowdfill.model.errors import MalformedMessage
from crowdfill.model.events import (
    Event,
    GroupKey,
    GroupRescored,
    RowAnnotated,
    RowInserted,
    RowReplaced,
    VoteRecorded,
    VoteRetracted,
)
from crowdfill.model.operations import (
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
from crowdfill.model.values import Value, Values, values_to_dict

_SCALARS = (str, int, float, bool)


def operation_to_wire(op: Operation) -> dict[str, Any]:
    if isinstance(op, Insert):
        wire: dict[str, Any] = {
            "type": "insert",
            "worker": op.worker,
            "row_id": op.row_id,
            "values": values_to_dict(op.values),
        }
        if op.gold:
            wire["gold"] = True  # only in the server's log; workers get the insert without it
        return wire
    if isinstance(op, Fill):
        return {
            "type": "fill",
            "worker": op.worker,
            "row_id": op.row_id,
            "new_row_id": op.new_row_id,
            "column": op.column,
            "value": op.value,
            "values": values_to_dict(op.values),
            "upvote": op.upvote,
        }
    if isinstance(op, Annotate):
        return _annotation(op)
    if isinstance(op, Retract):
        wire = {"type": "retract", "worker": op.worker, "row_id": op.row_id}
        if op.values:
            wire["values"] = values_to_dict(op.values)
        if op.kind is not None:
            wire["kind"] = op.kind
        return wire
    kind = "upvote" if isinstance(op, Upvote) else "downvote"
    return {
        "type": kind,
        "worker": op.worker,
        "row_id": op.row_id,
        "values": values_to_dict(op.values),
    }


def operation_from_wire(data: object) -> Operation:
    message = _mapping(data, "operation")
    kind = _string(message, "type")
    worker = _string(message, "worker")
    row_id = _string(message, "row_id")
    if kind == "insert":
        return Insert(row_id, _values(message, "values"), worker, _boolean(message, "gold", default=False))
    if kind == "fill":
        return Fill(
            worker,
            row_id,
            _string(message, "new_row_id"),
            _string(message, "column"),
            _scalar(message, "value"),
            _values(message, "values", required=False),
            _boolean(message, "upvote", default=False),
        )
    if kind in ("upvote", "downvote"):
        values = _values(message, "values", required=False)
        return Upvote(worker, row_id, values) if kind == "upvote" else Downvote(worker, row_id, values)
    if kind == "retract":
        return Retract(worker, row_id, _values(message, "values", required=False), _vote_kind(message))
    if kind == "annotate":
        return _annotation_from(message, worker, row_id)
    raise MalformedMessage(
        f"unknown operation type {kind!r}; types: insert, fill, upvote, downvote, retract, annotate"
    )


def reweigh_to_wire(op: Reweigh) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "type": "reweigh",
        "worker": op.worker,
        "weight": op.weight,
        "version": op.version,
    }
    if op.excluded:
        wire["excluded"] = True  # only when set, so the reweighs of reputation keep their shape
    return wire


def reweigh_from_wire(data: object) -> Reweigh:
    message = _mapping(data, "operation")
    if message.get("type") != "reweigh":
        raise MalformedMessage(f"expected a reweigh operation, got type {message.get('type')!r}")
    return Reweigh(
        _string(message, "worker"),
        message.get("weight"),  # type: ignore[arg-type]  # Reweigh checks it
        message.get("version"),  # type: ignore[arg-type]  # Reweigh checks it
        message.get("excluded", False),
    )


def sequenced_to_wire(op: Sequenced) -> dict[str, Any]:
    """Any operation of the log, reweighs included."""
    return reweigh_to_wire(op) if isinstance(op, Reweigh) else operation_to_wire(op)


def sequenced_from_wire(data: object) -> Sequenced:
    if isinstance(data, Mapping) and data.get("type") == "reweigh":
        return reweigh_from_wire(data)
    return operation_from_wire(data)


def event_to_wire(event: Event) -> dict[str, Any]:
    if isinstance(event, RowInserted):
        return {"type": "row_inserted", "row": _row(event.row)}
    if isinstance(event, RowReplaced):
        return {
            "type": "row_replaced",
            "old_row_id": event.old_row_id,
            "row": _row(event.row),
            "removed": event.removed,
        }
    if isinstance(event, VoteRecorded):
        return {
            "type": "vote_recorded",
            "worker": event.worker,
            "kind": event.kind,
            "values": values_to_dict(event.values),
            "row_id": event.row_id,
        }
    if isinstance(event, VoteRetracted):
        return {
            "type": "vote_retracted",
            "worker": event.worker,
            "kind": event.kind,
            "values": values_to_dict(event.values),
            "row_id": event.row_id,
        }
    if isinstance(event, RowAnnotated):
        return {"type": "row_annotated", "annotation": _annotation(event.annotation)}
    return {"type": "group_rescored", "group": [event.group[0], _group_value(event.group)]}


def event_from_wire(data: object) -> Event:
    message = _mapping(data, "event")
    kind = _string(message, "type")
    if kind == "row_inserted":
        return RowInserted(_row_from(message.get("row")))
    if kind == "row_replaced":
        return RowReplaced(
            _string(message, "old_row_id"),
            _row_from(message.get("row")),
            _boolean(message, "removed"),
        )
    if kind == "vote_recorded":
        vote = _string(message, "kind")
        if vote not in ("up", "down"):
            raise MalformedMessage(f"vote kind must be 'up' or 'down', got {vote!r}")
        return VoteRecorded(
            _string(message, "worker"),
            "up" if vote == "up" else "down",
            _values(message, "values"),
            _string(message, "row_id"),
        )
    if kind == "group_rescored":
        return GroupRescored(_group_from(message.get("group")))
    if kind == "vote_retracted":
        retracted = _vote_kind(message)
        if retracted is None:
            raise MalformedMessage("field 'kind' must be 'up' or 'down'")
        return VoteRetracted(
            _string(message, "worker"), retracted, _values(message, "values"), _string(message, "row_id")
        )
    if kind == "row_annotated":
        annotation = _mapping(message.get("annotation"), "annotation")
        return RowAnnotated(
            _annotation_from(annotation, _string(annotation, "worker"), _string(annotation, "row_id"))
        )
    raise MalformedMessage(f"unknown event type {kind!r}")


def _annotation(op: Annotate) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "type": "annotate",
        "worker": op.worker,
        "row_id": op.row_id,
        "kind": op.kind,
        "column": op.column,
        "value": op.value,
        "confidence": op.confidence,
    }
    if op.values:
        wire["values"] = values_to_dict(op.values)
    return wire


def _annotation_from(message: Mapping[str, Any], worker: str, row_id: str) -> Annotate:
    kind = message.get("kind")
    if kind not in ("prediction", "suggestion"):
        raise MalformedMessage(f"field 'kind' must be 'prediction' or 'suggestion', got {kind!r}")
    confidence = message.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise MalformedMessage(f"field 'confidence' must be a number in [0, 1], got {confidence!r}")
    return Annotate(
        worker,
        row_id,
        "prediction" if kind == "prediction" else "suggestion",
        _string(message, "column"),
        _scalar(message, "value"),
        float(confidence),
        _values(message, "values", required=False),
    )


def _vote_kind(message: Mapping[str, Any]) -> Literal["up", "down"] | None:
    kind = message.get("kind")
    if kind is None:
        return None
    if kind == "up":
        return "up"
    if kind == "down":
        return "down"
    raise MalformedMessage(f"field 'kind' must be 'up' or 'down', got {kind!r}")


def _row(row: Row) -> dict[str, Any]:
    return {"row_id": row.row_id, "values": values_to_dict(row.values)}


def _row_from(data: object) -> Row:
    message = _mapping(data, "row")
    return Row(_string(message, "row_id"), _values(message, "values"))


def _group_value(group: GroupKey) -> Any:
    return list(group[1]) if group[0] == "key" else group[1]


def _group_from(data: object) -> GroupKey:
    if not isinstance(data, list) or len(data) != 2:
        raise MalformedMessage("group must be a two-element list")
    kind, value = data
    if kind == "row" and isinstance(value, str):
        return ("row", value)
    if kind == "key" and isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
        return ("key", tuple(value))
    raise MalformedMessage(f"bad group {data!r}")


def _mapping(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MalformedMessage(f"an {what} must be a JSON object, got {type(data).__name__}")
    return data


def _string(message: Mapping[str, Any], name: str) -> str:
    value = message.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"field {name!r} must be a non-empty string, got {value!r}")
    if len(value) > 200:
        raise MalformedMessage(f"field {name!r} is longer than 200 characters")
    return value


def _scalar(message: Mapping[str, Any], name: str) -> Value:
    value = message.get(name)
    if not isinstance(value, _SCALARS):
        raise MalformedMessage(f"field {name!r} must be a string, number or boolean, got {value!r}")
    return value


def _boolean(message: Mapping[str, Any], name: str, default: bool | None = None) -> bool:
    value = message.get(name, default)
    if not isinstance(value, bool):
        raise MalformedMessage(f"field {name!r} must be true or false, got {value!r}")
    return value


def _values(message: Mapping[str, Any], name: str, required: bool = True) -> Values:
    value = message.get(name)
    if value is None and not required:
        return frozenset()
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"field {name!r} must be an object of column -> value")
    items = []
    for column, cell in value.items():
        if not isinstance(column, str) or not isinstance(cell, _SCALARS):
            raise MalformedMessage(f"field {name!r}: column {column!r} has a non-scalar value")
        items.append((column, cell))
    return frozenset(items)
