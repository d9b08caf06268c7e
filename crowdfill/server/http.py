"""HTTP edge plumbing: the error envelope for every failure, and the request body size limit."""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crowdfill.model import CrowdFillError
from crowdfill.server import strict_json
from crowdfill.server.failures import Failure, error_body, http_status
from crowdfill.store.port import StoreError

logger = logging.getLogger(__name__)


def failure_response(failure: Failure) -> JSONResponse:
    return JSONResponse(error_body(failure.code, failure.message), status_code=http_status(failure.code))


def install_error_handlers(app: FastAPI) -> None:
    async def on_failure(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Failure)  # registered for Failure only
        return failure_response(error)

    async def on_domain(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CrowdFillError)  # registered for CrowdFillError only
        return failure_response(Failure(error.code, error.message))

    async def on_invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)  # registered for it only
        problems = list(error.errors())
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return failure_response(Failure("bad_json", "the request body is not valid JSON"))
        parts = []
        for problem in problems[:5]:
            location = [str(part) for part in problem.get("loc", ()) if part != "body"]
            parts.append(f"{'.'.join(location) or 'body'}: {problem.get('msg', 'invalid')}")
        return failure_response(Failure("malformed", "; ".join(parts) or "the request is malformed"))

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)  # registered for it only
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        response = JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)
        if error.headers:
            response.headers.update(error.headers)
        if error.status_code == 405:
            # Starlette names the methods of the first route matching the path only; a path
            # served by several routes (GET and PATCH /api/tables/{id}) allows all of theirs.
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    async def on_store(request: Request, error: Exception) -> JSONResponse:
        logger.error("storage failed during %s %s: %s", request.method, request.url.path, error)
        return failure_response(Failure("store_unavailable", "storage is unavailable; retry shortly"))

    app.add_exception_handler(Failure, on_failure)
    app.add_exception_handler(CrowdFillError, on_domain)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(StoreError, on_store)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app answers on the request's path (asked of the routes)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def bearer_ok(header: str | None, token: str) -> bool:
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the app parses anything.

    A body that is JSON the edge will not take (a lone surrogate, a 101-digit number, deep
    nesting: see ``strict_json``) is refused here with 422 ``malformed`` too; a body that is not
    JSON at all is left to the route, which answers 400 ``bad_json`` where it expects JSON.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._limit):
            await _too_large(send, self._limit)
            return
        # Read the body here (bounded) and replay it: a client that lies about or omits
        # Content-Length cannot make the app buffer more than the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self._limit:
                await _too_large(send, self._limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                strict_json.loads(body)
            except strict_json.JsonRefused as refused:
                if refused.code != "bad_json":
                    await _refuse(send, 422, refused.code, refused.message)
                    return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(
        send, 413, "payload_too_large", f"the request body is larger than the limit of {limit} bytes"
    )


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
