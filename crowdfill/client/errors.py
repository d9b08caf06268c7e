"""The SDK's exceptions: one per kind of refusal, each carrying the server's stable error ``code``.

``ServerError`` is the base: catch it for "the call did not work". The codes and HTTP statuses are
those of docs/protocol.md ("Error codes").
"""

from __future__ import annotations


class ServerError(RuntimeError):
    """The server could not be reached, refused the request, or answered something unexpected."""

    def __init__(self, message: str, code: str = "client_error", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


class ConnectionFailed(ServerError):
    """No answer: the server is not running at that address, or the network failed."""


class UnexpectedAnswer(ServerError):
    """The server answered, but not in the shape of docs/protocol.md (a proxy page, another version)."""


class Unauthorized(ServerError):
    """The requester token is missing or wrong (401)."""


class NotFound(ServerError):
    """No such table, link, hook, export or route (404)."""


class InvalidRequest(ServerError):
    """The request itself is wrong: a malformed body, an invalid definition (400, 413, 422)."""


class WrongState(ServerError):
    """The table is not in a state that allows this (a launched draft, a closed table: 409)."""


class Unavailable(ServerError):
    """The server is overloaded or its storage failed; the SDK retried and gave up (503)."""


_BY_STATUS: dict[int, type[ServerError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: WrongState,
    413: InvalidRequest,
    422: InvalidRequest,
    503: Unavailable,
}


def error_for(status: int, code: str, message: str) -> ServerError:
    """The exception for an error answer (``{"error": {"code", "message"}}``)."""
    kind = _BY_STATUS.get(status, ServerError)
    return kind(message, code, status)
