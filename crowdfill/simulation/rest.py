"""The requester side of the socket mode: the documented REST calls (docs/protocol.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from crowdfill.model import Scoring, Sequenced, Template
from crowdfill.model.codec import sequenced_from_wire
from crowdfill.model.values import values_to_dict
from crowdfill.simulation.truth import Truth


class SocketModeError(RuntimeError):
    """The server refused or could not be reached; the message names the step and the server's error."""


@dataclass(frozen=True)
class SocketSettings:
    """Where the server is and how fast simulated time runs (``time_scale`` real seconds per simulated
    second); ``timeout`` bounds the wall time of the collection."""

    server: str
    requester_token: str
    time_scale: float = 0.02
    timeout: float = 600.0
    connect_timeout: float = 15.0
    # The definition's ``quality`` block (docs/quality.md); None leaves the server's defaults.
    quality: dict[str, float | int] | None = None

    def __post_init__(self) -> None:
        if not self.server.startswith(("http://", "https://")):
            raise ValueError(f"--server takes an http(s) URL, got {self.server!r}")
        if not self.requester_token:
            raise ValueError("the socket mode needs the server's requester token")
        if not self.time_scale > 0 or not self.timeout > 0:
            raise ValueError("time scale and timeout must be positive")


def definition(
    truth: Truth, scoring: Scoring, template: Template, budget_cents: int, **compensation: float
) -> dict[str, Any]:
    """The table definition of the protocol (docs/protocol.md, "Table definition")."""
    columns: list[dict[str, Any]] = []
    for column in truth.schema.columns:
        spec: dict[str, Any] = {"name": column.name, "type": column.type}
        if column.domain is not None:
            spec["domain"] = list(column.domain)
        columns.append(spec)
    return {
        "name": "Simulated collection",
        "instructions": "A simulated crowd (crowdfill simulate --server).",
        "schema": {"columns": columns, "key": list(truth.schema.key)},
        "scoring": {
            "family": scoring.family,
            "min_votes": scoring.min_votes,
            "up_weight": scoring.up_weight,
            "down_weight": scoring.down_weight,
        },
        "template": [values_to_dict(row) for row in template.rows],
        "budget_cents": budget_cents,
        "compensation": dict(compensation),
    }


async def request(rest: aiohttp.ClientSession, method: str, path: str, body: object = None) -> dict[str, Any]:
    try:
        async with rest.request(method, path, json=body) as response:
            try:
                data = await response.json()
            except (aiohttp.ContentTypeError, ValueError) as error:
                raise SocketModeError(f"{method} {path}: HTTP {response.status}, not JSON") from error
            status = response.status
    except aiohttp.ClientError as error:
        raise SocketModeError(f"{method} {path}: {error}") from error
    if status >= 400:
        problem = data.get("error", {}) if isinstance(data, dict) else {}
        code, message = problem.get("code", ""), problem.get("message", data)
        raise SocketModeError(f"{method} {path}: HTTP {status} {code}: {message}")
    if not isinstance(data, dict):
        raise SocketModeError(f"{method} {path}: expected a JSON object")
    return data


async def read_log(rest: aiohttp.ClientSession, table_id: str) -> list[tuple[int, float, Sequenced]]:
    entries: list[tuple[int, float, Sequenced]] = []
    after = 0
    while True:
        page = await request(rest, "GET", f"/api/tables/{table_id}/log?after_seq={after}&limit=10000")
        for item in page["ops"]:
            entries.append((int(item["seq"]), float(item["at"]), sequenced_from_wire(item["op"])))
        if not page["ops"]:
            return entries
        after = entries[-1][0]
