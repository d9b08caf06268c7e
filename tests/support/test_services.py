"""The test servers' own rules: a missing server fails under CI and is skipped (with the reason) elsewhere."""

from __future__ import annotations

import pytest

from tests.support.services import RedisServer, unavailable


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI must provide it: redis-server"):
        unavailable("redis-server is not installed")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_a_missing_server_is_skipped_outside_ci_naming_the_install_script(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="scripts/install-services"):
        unavailable("redis-server is not installed")


def test_the_session_redis_server_answers_ping(redis: RedisServer) -> None:
    assert redis.ping()
    assert redis.url.startswith("redis://127.0.0.1:")
