"""What the sync and async clients share: headers, the retry policy, and reading an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from crowdfill.client.errors import ConnectionFailed, ServerError, UnexpectedAnswer, error_for
from crowdfill.client.token_file import token_path, where_the_token_is

DEFAULT_SERVER = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Retry:
    """Retry a 503 (overloaded, storage failing) ``attempts - 1`` times, waiting ``base * 2**n``
    seconds (or the server's ``Retry-After``), at most ``cap`` seconds between two attempts."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 10.0

    def delay(self, attempt: int, response: httpx.Response) -> float:
        after = response.headers.get("Retry-After")
        if after is not None:
            try:
                return float(min(self.cap, max(0.0, float(after))))
            except ValueError:
                pass  # an HTTP date: fall back to our own backoff
        return float(min(self.cap, self.base * 2.0**attempt))


def headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def check(method: str, path: str, response: httpx.Response) -> None:
    """Raise the exception an error answer stands for."""
    if response.status_code < 400:
        return
    code, message = "http_error", response.text[:200]
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        code, message = str(error.get("code", "error")), str(error["message"])
    text = f"{method} {path} failed with {response.status_code}: {code}: {message}"[:400]
    if response.status_code == 401:
        text += f"; {where_the_token_is(token_path())}"
    raise error_for(response.status_code, code, text)


def json_of(method: str, path: str, response: httpx.Response) -> Any:
    check(method, path, response)
    try:
        return response.json()
    except ValueError as error:
        raise UnexpectedAnswer(f"{method} {path} did not answer JSON", status=response.status_code) from error


def unreachable(base: str, error: httpx.HTTPError) -> ServerError:
    return ConnectionFailed(f"cannot reach the CrowdFill server at {base}: {error}", "unreachable")
