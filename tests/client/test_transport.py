"""The SDK's sending: token, paths, one exception per refusal, 503 retries with backoff."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import httpx
import pytest

from crowdfill.client import (
    Client,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    Retry,
    ServerError,
    Unauthorized,
    Unavailable,
    UnexpectedAnswer,
    WrongState,
)
from crowdfill.client.calls import table_path
from crowdfill.client.options import requester_token, server_url

TABLE = {"id": "t", "status": "live", "definition": {"schema": {"columns": [{"name": "a"}]}}}


def client(handle: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None) -> Client:
    waits = sleeps if sleeps is not None else []
    return Client(
        "http://crowdfill.test/",
        "secret",
        transport=httpx.MockTransport(handle),
        retry=Retry(attempts=4, base=0.5, cap=1.5),
        sleep=waits.append,
    )


def error(status: int, code: str, message: str = "no") -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


def test_table_paths_quote_every_part() -> None:
    assert table_path("a b/c", "workers", "mturk:W 1", "block") == (
        "/api/tables/a%20b%2Fc/workers/mturk%3AW%201/block"
    )


def test_the_token_is_sent_and_the_answer_is_read_into_its_model() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ops": [{"seq": 3, "at": 1.0, "op": {"kind": "x"}}], "last_seq": 3})

    with client(handle) as api:
        page = api.log_page("t", after_seq=2, limit=5)
    assert [entry.seq for entry in page.ops] == [3]
    assert seen[0].headers["Authorization"] == "Bearer secret"
    assert (seen[0].url.params["after_seq"], seen[0].url.params["limit"]) == ("2", "5")


@pytest.mark.parametrize(
    ("response", "kind", "message"),
    [
        (error(404, "table_not_found", "no table"), NotFound, "404: table_not_found: no table"),
        (error(401, "unauthorized"), Unauthorized, "401: unauthorized"),
        (error(409, "table_not_draft"), WrongState, "409: table_not_draft"),
        (error(422, "invalid_definition"), InvalidRequest, "422: invalid_definition"),
        (httpx.Response(500, text="boom"), ServerError, "500: http_error: boom"),
        (httpx.Response(200, text="<html>"), UnexpectedAnswer, "did not answer JSON"),
        (httpx.Response(200, json=[1, 2]), UnexpectedAnswer, "unexpected shape"),
    ],
)
def test_a_refusal_or_an_unexpected_answer_raises_the_exception_of_its_kind(
    response: httpx.Response, kind: type[ServerError], message: str
) -> None:
    with client(lambda request: response) as api, pytest.raises(kind, match=message) as raised:
        api.table("t")
    if response.status_code >= 400:
        assert raised.value.status == response.status_code


def test_the_error_keeps_the_servers_code() -> None:
    with client(lambda request: error(409, "table_closed")) as api, pytest.raises(WrongState) as raised:
        api.close_table("t")
    assert raised.value.code == "table_closed"


def test_an_unreachable_server_is_a_connection_failure_naming_it() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client(refuse) as api, pytest.raises(ConnectionFailed, match=r"crowdfill\.test"):
        api.close_table("t")


def test_a_503_is_retried_with_doubling_waits_until_it_succeeds() -> None:
    answers = [error(503, "store_unavailable"), error(503, "overloaded"), httpx.Response(200, json=TABLE)]
    sleeps: list[float] = []
    with client(lambda request: answers.pop(0), sleeps) as api:
        assert api.table("t").status == "live"
    assert sleeps == [0.5, 1.0]


def test_retries_give_up_after_the_last_attempt_with_capped_waits() -> None:
    calls: list[str] = []
    sleeps: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return error(503, "overloaded")

    with client(busy, sleeps) as api, pytest.raises(Unavailable, match="overloaded"):
        api.table("t")
    assert (len(calls), sleeps) == (4, [0.5, 1.0, 1.5])


def test_a_retry_after_header_sets_the_wait() -> None:
    answers = [httpx.Response(503, headers={"Retry-After": "0.25"}, json={}), httpx.Response(200, json=TABLE)]
    sleeps: list[float] = []
    with client(lambda request: answers.pop(0), sleeps) as api:
        api.table("t")
    assert sleeps == [0.25]


def test_registering_a_webhook_is_not_retried() -> None:
    calls: list[str] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return error(503, "store_unavailable")

    with client(busy) as api, pytest.raises(Unavailable):
        api.create_webhook("t", "http://127.0.0.1:9/hook")
    assert calls == ["POST"]


def test_a_definition_is_checked_before_it_is_sent() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing should be sent")

    with client(never) as api, pytest.raises(ValueError, match="schema"):
        api.create_table({"name": "x", "budget_cents": 1})


def test_server_and_token_come_from_the_options_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDFILL_SERVER", "http://env.test")
    monkeypatch.setenv("CROWDFILL_REQUESTER_TOKEN", "env-token")
    given = argparse.Namespace(server="http://given.test", token="given-token")
    assert (server_url(given), requester_token(given)) == ("http://given.test", "given-token")
    unset = argparse.Namespace(server=None, token=None)
    assert (server_url(unset), requester_token(unset)) == ("http://env.test", "env-token")
    monkeypatch.delenv("CROWDFILL_SERVER")
    assert server_url(unset) == "http://127.0.0.1:8000"
