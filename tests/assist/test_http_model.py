"""The HTTP adapter against a real model server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crowdfill.assist import AssistantUnavailable, BadAssistantReply, InvalidAssistant, Prediction, Suggestion
from crowdfill.assist.http_model import HttpAssistant
from tests.support.model_server import ModelServer


@pytest.fixture
def server() -> Iterator[ModelServer]:
    model = ModelServer()
    model.start()
    yield model
    model.stop()


async def test_a_prediction_comes_back_from_the_model_server(server: ModelServer) -> None:
    assistant = HttpAssistant(server.url)
    try:
        prediction = await assistant.predict({"text": "a good day"}, "label")
    finally:
        await assistant.aclose()
    assert prediction == Prediction("label", "positive", 0.75)
    assert server.requests == [{"task": "predict", "values": {"text": "a good day"}, "column": "label"}]
    assert assistant.status.state == "up"


async def test_suggestions_name_only_the_empty_columns_asked_for(server: ModelServer) -> None:
    assistant = HttpAssistant(server.url)
    try:
        suggestions = await assistant.suggest({"text": "gloomy"}, ["label"])
    finally:
        await assistant.aclose()
    assert suggestions == [Suggestion("label", "negative", 0.75)]


async def test_a_model_slower_than_the_timeout_is_unavailable_after_its_retries(server: ModelServer) -> None:
    server.delay = 1.0
    assistant = HttpAssistant(server.url, timeout=0.2, retries=1, backoff=0.0)
    try:
        with pytest.raises(AssistantUnavailable, match=r"no answer within 0\.2s"):
            await assistant.predict({"text": "slow"}, "label")
    finally:
        await assistant.aclose()
    assert server.calls() == 2
    assert assistant.status.state == "down"


async def test_a_model_server_that_is_down_is_unavailable_with_a_clear_status() -> None:
    down = ModelServer()  # never started: nothing listens on its port
    assistant = HttpAssistant(down.url, timeout=0.5, retries=2, backoff=0.0)
    try:
        with pytest.raises(AssistantUnavailable, match="cannot reach") as raised:
            await assistant.predict({"text": "anyone there"}, "label")
    finally:
        await assistant.aclose()
    assert raised.value.code == "assistant_unavailable"
    assert "3 attempt(s)" in raised.value.message
    assert assistant.status.state == "down"


async def test_a_500_is_retried_and_the_next_answer_is_used(server: ModelServer) -> None:
    server.failures = 1
    assistant = HttpAssistant(server.url, retries=1, backoff=0.0)
    try:
        prediction = await assistant.predict({"text": "good"}, "label")
    finally:
        await assistant.aclose()
    assert prediction is not None
    assert prediction.value == "positive"
    assert server.calls() == 2


async def test_500s_past_the_retries_make_the_model_unavailable(server: ModelServer) -> None:
    server.failures = 5
    assistant = HttpAssistant(server.url, retries=1, backoff=0.0)
    try:
        with pytest.raises(AssistantUnavailable, match="answered 500"):
            await assistant.predict({"text": "good"}, "label")
    finally:
        await assistant.aclose()
    assert server.calls() == 2


async def test_a_reply_that_is_not_json_is_a_bad_reply_and_not_retried(server: ModelServer) -> None:
    server.raw = b"<html>oops</html>"
    assistant = HttpAssistant(server.url, retries=3, backoff=0.0)
    try:
        with pytest.raises(BadAssistantReply, match="not JSON"):
            await assistant.predict({"text": "good"}, "label")
    finally:
        await assistant.aclose()
    assert server.calls() == 1
    assert assistant.status.state == "bad"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b'{"confidence": 0.5}', "needs a 'value' field"),
        (b'{"value": {"nested": 1}, "confidence": 0.5}', "'value' must be a string"),
        (b'{"value": "positive", "confidence": 1.5}', "confidence must be in"),
        (b'{"value": "positive"}', "confidence must be a number"),
    ],
)
async def test_a_reply_of_the_wrong_shape_names_the_problem(
    server: ModelServer, raw: bytes, problem: str
) -> None:
    server.raw = raw
    assistant = HttpAssistant(server.url)
    try:
        with pytest.raises(BadAssistantReply, match=problem):
            await assistant.predict({"text": "good"}, "label")
    finally:
        await assistant.aclose()


async def test_a_suggestion_for_a_column_not_asked_for_is_refused(server: ModelServer) -> None:
    server.raw = b'{"suggestions": [{"column": "text", "value": "x", "confidence": 0.5}]}'
    assistant = HttpAssistant(server.url)
    try:
        with pytest.raises(BadAssistantReply, match="not one of the empty columns"):
            await assistant.suggest({"text": "good"}, ["label"])
    finally:
        await assistant.aclose()


async def test_a_null_value_is_no_verdict(server: ModelServer) -> None:
    server.raw = b'{"value": null}'
    assistant = HttpAssistant(server.url)
    try:
        assert await assistant.predict({"text": "hmm"}, "label") is None
    finally:
        await assistant.aclose()


@pytest.mark.parametrize(
    ("url", "options", "problem"),
    [
        ("ftp://model", {}, "must start with http"),
        ("http://127.0.0.1:1/", {"timeout": 0}, "timeout must be positive"),
        ("http://127.0.0.1:1/", {"retries": -1}, "retries must be"),
    ],
)
def test_a_bad_configuration_is_refused_up_front(url: str, options: dict[str, float], problem: str) -> None:
    with pytest.raises(InvalidAssistant, match=problem):
        HttpAssistant(url, **options)  # type: ignore[arg-type]  # the options are mixed on purpose
