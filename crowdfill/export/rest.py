"""The requester REST client the command-line tools share: ``crowdfill export`` and the market
commands (``crowdfill mturk``, ``crowdfill prolific``).

It lives here because ``export`` is the lowest layer that talks to a running server; ``markets`` sits
above ``export`` in the layers (pyproject.toml, import-linter) and imports it from here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import quote

import httpx

DEFAULT_SERVER = "http://127.0.0.1:8000"
# Table statuses after which the final table and the settlement no longer change.
FINISHED_STATUSES = frozenset({"complete", "closed"})


class ServerError(RuntimeError):
    """The server could not be reached, refused the request, or answered something unexpected."""


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--server`` and ``--token``, read by ``server_url`` and ``requester_token``."""
    parser.add_argument("--server", default=None, help=f"server URL (env CROWDFILL_SERVER; {DEFAULT_SERVER})")
    parser.add_argument("--token", default=None, help="requester token (env CROWDFILL_REQUESTER_TOKEN)")


def server_url(args: argparse.Namespace) -> str:
    return str(args.server or os.environ.get("CROWDFILL_SERVER") or DEFAULT_SERVER)


def requester_token(args: argparse.Namespace) -> str | None:
    token: str | None = args.token or os.environ.get("CROWDFILL_REQUESTER_TOKEN")
    return token


def table_path(table_id: str, *rest: str) -> str:
    """``/api/tables/{table_id}/...`` with every part quoted."""
    return "/".join(["/api/tables", *(quote(part, safe="") for part in (table_id, *rest))])


class RequesterClient:
    """An httpx client with the requester token; every failure becomes a ``ServerError``."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._base = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self._base, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """The JSON answer of ``method path``."""
        try:
            response = self._http.request(method, path, params=params, json=body)
        except httpx.HTTPError as error:
            raise ServerError(f"cannot reach the CrowdFill server at {self._base}: {error}") from error
        if response.status_code >= 400:
            raise ServerError(f"{method} {path} failed with {response.status_code}: {_detail(response)}")
        try:
            return response.json()
        except ValueError as error:
            raise ServerError(f"{method} {path} did not answer JSON") from error

    def get_object(self, path: str, params: Mapping[str, int] | None = None) -> dict[str, Any]:
        """The JSON object ``GET path`` answers."""
        answer = self.call("GET", path, params=params)
        if not isinstance(answer, dict):
            raise ServerError(f"GET {path} did not answer an object")
        return answer


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        return f"{error.get('code', 'error')}: {error['message']}"[:300]
    return str(body)[:300]
