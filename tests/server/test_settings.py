"""Settings from the environment and the ``crowdfill serve`` command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from crowdfill.cli import build_parser
from crowdfill.server.settings import Settings
from tests.support.live_server import test_settings


def test_environment_variables_configure_the_server_and_options_override_them(tmp_path: Path) -> None:
    env = {
        "CROWDFILL_HOST": "0.0.0.0",
        "CROWDFILL_PORT": "9100",
        "CROWDFILL_DATA_DIR": str(tmp_path),
        "CROWDFILL_STORE_URL": "memory://",
        "CROWDFILL_REQUESTER_TOKEN": "from-env",
        "CROWDFILL_SECRET": "a-long-enough-secret",
    }
    settings, notes = Settings.from_env(env, port=9200)
    assert (settings.host, settings.port, settings.data_dir) == ("0.0.0.0", 9200, tmp_path)
    assert (settings.store_url, settings.requester_token, settings.secret) == (
        "memory://",
        "from-env",
        "a-long-enough-secret",
    )
    assert notes == []


def test_a_generated_requester_token_and_secret_are_kept_across_restarts(tmp_path: Path) -> None:
    first, notes = Settings.from_env({}, data_dir=tmp_path)
    assert any("generated the requester token" in note for note in notes)
    assert (tmp_path / "requester-token").stat().st_mode & 0o077 == 0
    second, _ = Settings.from_env({}, data_dir=tmp_path)
    assert (second.requester_token, second.secret) == (first.requester_token, first.secret)


def test_a_bad_port_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="CROWDFILL_PORT"):
        Settings.from_env(
            {"CROWDFILL_PORT": "eighty", "CROWDFILL_REQUESTER_TOKEN": "x", "CROWDFILL_SECRET": "y" * 20}
        )


def test_the_serve_command_is_registered_with_its_options() -> None:
    args = build_parser().parse_args(["serve", "--port", "0", "--demo", "--store-url", "memory://"])
    assert (args.port, args.demo, args.store_url) == (0, "soccer", "memory://")
    assert callable(args.handler)


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_limit_ops_per_second": 0.0},
        {"rate_limit_burst": 0},
        {"malformed_limit": 0},
        {"rate_limit_refusals": 0},
    ],
)
def test_edge_limits_that_would_refuse_everyone_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must be|needs"):
        Settings(requester_token="t", secret="s" * 16, **changes)  # type: ignore[arg-type]  # each change is one field


def test_a_redis_url_from_the_environment_or_the_command_line_makes_the_server_one_of_several() -> None:
    env = {
        "CROWDFILL_REQUESTER_TOKEN": "t",
        "CROWDFILL_SECRET": "s" * 16,
        "CROWDFILL_REDIS_URL": "redis://a:1/0",
    }
    assert Settings.from_env(env)[0].redis_url == "redis://a:1/0"
    args = build_parser().parse_args(["serve", "--redis-url", "redis://b:2/0", "--lease-ttl", "1.5"])
    settings, _ = Settings.from_env(env, redis_url=args.redis_url, lease_ttl_seconds=args.lease_ttl)
    assert (settings.redis_url, settings.lease_ttl_seconds) == ("redis://b:2/0", 1.5)
    assert (
        Settings.from_env({"CROWDFILL_REQUESTER_TOKEN": "t", "CROWDFILL_SECRET": "s" * 16})[0].redis_url
        is None
    )


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"redis_url": "http://cache:6379"}, "http://cache:6379"),
        ({"lease_ttl_seconds": 0.0}, "lease_ttl_seconds"),
        ({"forward_timeout_seconds": -1.0}, "forward_timeout_seconds"),
    ],
)
def test_cluster_settings_that_cannot_work_are_refused_naming_them(
    changes: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        Settings(requester_token="t", secret="s" * 16, **changes)  # type: ignore[arg-type]  # each change is one field


def test_an_unknown_socket_writer_is_refused_naming_the_choices() -> None:
    with pytest.raises(
        ValueError, match="socket_writer must be one of frame, direct, loop, engineio, not 'fast'"
    ):
        test_settings(socket_writer="fast")


def test_the_socket_writer_option_reaches_the_settings(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--socket-writer", "engineio"])
    settings, _ = Settings.from_env({}, data_dir=tmp_path, socket_writer=args.socket_writer)
    assert settings.socket_writer == "engineio"
    assert test_settings().socket_writer == "frame"


@pytest.mark.parametrize("linger", [-0.001, 1.5])
def test_a_commit_linger_out_of_range_is_refused_naming_it(linger: float) -> None:
    with pytest.raises(ValueError, match="commit_linger_seconds must be 0"):
        test_settings(commit_linger_seconds=linger)


def test_the_commit_linger_option_is_given_in_milliseconds(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--commit-linger-ms", "7.5"])
    assert args.commit_linger_ms == 7.5
    settings, _ = Settings.from_env({}, data_dir=tmp_path, commit_linger_seconds=args.commit_linger_ms / 1000)
    assert settings.commit_linger_seconds == 0.0075
    assert test_settings().commit_linger_seconds == 0.02
