"""Any model server the requester runs, over HTTP: one JSON POST per row (docs/model-in-the-loop.md).

The request is ``{"task": "predict", "values": {...}, "column": "label"}`` or
``{"task": "suggest", "values": {...}, "columns": [...]}``; the reply is
``{"value": ..., "confidence": ...}`` (or ``{"value": null}`` for no verdict) and
``{"suggestions": [{"column": ..., "value": ..., "confidence": ...}, ...]}``.

A timeout, a refused connection or a 5xx is retried ``retries`` times with a short backoff, then
raises ``AssistantUnavailable``; a 4xx or a reply of the wrong shape raises ``BadAssistantReply`` at
once (retrying cannot fix it). ``status`` tells the monitor whether the model is answering.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from crowdfill.assist.errors import AssistantUnavailable, BadAssistantReply, InvalidAssistant
from crowdfill.assist.port import Prediction, Suggestion, check_confidence
from crowdfill.model.values import Value

_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class HttpStatus:
    """The last call's outcome: ``up``, ``down`` (no answer) or ``bad`` (an answer of the wrong shape)."""

    state: str
    detail: str = ""


class HttpAssistant:
    def __init__(
        self,
        url: str,
        timeout: float = 2.0,
        retries: int = 1,
        backoff: float = 0.05,
        name: str = "http",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidAssistant(f"http assistant: url must start with http:// or https://, got {url!r}")
        if not timeout > 0:
            raise InvalidAssistant(f"http assistant: timeout must be positive, got {timeout!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidAssistant(f"http assistant: retries must be a whole number >= 0, got {retries!r}")
        self.url = url
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self._name = name
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.status = HttpStatus("unknown", "no call yet")

    @property
    def name(self) -> str:
        return self._name

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def predict(self, values: Mapping[str, Value], column: str) -> Prediction | None:
        reply = await self._post({"task": "predict", "values": dict(values), "column": column})
        if "value" not in reply:
            raise self._bad("a predict reply needs a 'value' field")
        value = reply["value"]
        if value is None:
            return None
        if not isinstance(value, _SCALARS):
            raise self._bad(f"'value' must be a string, number or boolean, got {value!r}")
        return Prediction(column, value, self._confidence(reply.get("confidence"), "predict"))

    async def suggest(self, values: Mapping[str, Value], columns: Sequence[str]) -> list[Suggestion]:
        reply = await self._post({"task": "suggest", "values": dict(values), "columns": list(columns)})
        raw = reply.get("suggestions")
        if not isinstance(raw, list):
            raise self._bad("a suggest reply needs a 'suggestions' list")
        suggestions = []
        for index, item in enumerate(raw):
            where = f"suggestions[{index}]"
            if not isinstance(item, dict):
                raise self._bad(f"{where} must be an object")
            column, value = item.get("column"), item.get("value")
            if column not in columns:
                raise self._bad(f"{where}: column {column!r} is not one of the empty columns {list(columns)}")
            if not isinstance(value, _SCALARS):
                raise self._bad(f"{where}: value must be a string, number or boolean, got {value!r}")
            suggestions.append(
                Suggestion(str(column), value, self._confidence(item.get("confidence"), where))
            )
        return suggestions

    # ------------------------------------------------------------------ the call
    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, transport=self._transport)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * attempt)
            try:
                response = await self._client.post(self.url, json=body)
            except httpx.TimeoutException:
                last = f"no answer within {self.timeout:g}s"
                continue
            except httpx.TransportError as error:
                last = f"cannot reach {self.url} ({type(error).__name__})"
                continue
            if response.status_code >= 500:
                last = f"the model server answered {response.status_code}"
                continue
            if response.status_code >= 400:
                raise self._bad(f"the model server refused the request with {response.status_code}")
            try:
                reply = json.loads(response.content)
            except ValueError as error:
                raise self._bad(f"the reply is not JSON ({error})") from error
            if not isinstance(reply, dict):
                raise self._bad(f"the reply must be a JSON object, got {type(reply).__name__}")
            self.status = HttpStatus("up")
            return reply
        self.status = HttpStatus("down", last)
        tries = self.retries + 1
        raise AssistantUnavailable(f"model {self._name!r} is down: {last} ({tries} attempt(s))")

    def _confidence(self, raw: object, where: str) -> float:
        try:
            return check_confidence(raw, where)
        except ValueError as error:
            raise self._bad(str(error)) from error

    def _bad(self, detail: str) -> BadAssistantReply:
        self.status = HttpStatus("bad", detail)
        return BadAssistantReply(f"model {self._name!r} at {self.url}: {detail}")
