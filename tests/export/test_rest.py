"""The requester REST client shared by ``crowdfill export`` and the market commands."""

from __future__ import annotations

import argparse

import httpx
import pytest

from crowdfill.export.rest import RequesterClient, ServerError, requester_token, server_url, table_path


def client(transport: httpx.MockTransport) -> RequesterClient:
    return RequesterClient("http://crowdfill.test/", "secret", transport=transport)


def test_table_paths_quote_every_part() -> None:
    assert table_path("a b/c", "workers", "mturk:W 1", "block") == (
        "/api/tables/a%20b%2Fc/workers/mturk%3AW%201/block"
    )


def test_the_token_is_sent_and_a_json_object_is_returned() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    with client(httpx.MockTransport(handle)) as api:
        assert api.get_object("/api/tables/t", {"limit": 5}) == {"ok": True}
    assert seen[0].headers["Authorization"] == "Bearer secret"
    assert seen[0].url.params["limit"] == "5"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(404, json={"error": {"code": "table_not_found", "message": "no table"}}),
            "404: table_not_found",
        ),
        (httpx.Response(500, text="boom"), "500: boom"),
        (httpx.Response(200, text="<html>"), "did not answer JSON"),
        (httpx.Response(200, json=[1, 2]), "did not answer an object"),
    ],
)
def test_a_refusal_or_an_unexpected_answer_is_a_server_error(response: httpx.Response, message: str) -> None:
    with (
        client(httpx.MockTransport(lambda request: response)) as api,
        pytest.raises(ServerError, match=message),
    ):
        api.get_object("/api/tables/t")


def test_an_unreachable_server_is_a_server_error_naming_it() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client(httpx.MockTransport(refuse)) as api, pytest.raises(ServerError, match=r"crowdfill\.test"):
        api.call("POST", "/api/tables/t/close")


def test_server_and_token_come_from_the_options_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDFILL_SERVER", "http://env.test")
    monkeypatch.setenv("CROWDFILL_REQUESTER_TOKEN", "env-token")
    given = argparse.Namespace(server="http://given.test", token="given-token")
    assert (server_url(given), requester_token(given)) == ("http://given.test", "given-token")
    unset = argparse.Namespace(server=None, token=None)
    assert (server_url(unset), requester_token(unset)) == ("http://env.test", "env-token")
    monkeypatch.delenv("CROWDFILL_SERVER")
    assert server_url(unset) == "http://127.0.0.1:8000"
