"""The commands find the requester token where ``crowdfill serve`` keeps it, and a 401 says where."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from crowdfill.client import Client, Unauthorized
from crowdfill.client import token_file as client_side
from crowdfill.client.options import add_server_options, requester_token
from crowdfill.server import settings as server_side


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_server_options(parser)
    return parser.parse_args(list(argv))


def test_the_client_and_the_server_name_the_same_token_file() -> None:
    assert client_side.TOKEN_FILE == server_side.TOKEN_FILE
    assert client_side.DEFAULT_DATA_DIR == server_side.DEFAULT_DATA_DIR


def test_without_a_token_the_command_reads_the_one_the_server_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROWDFILL_REQUESTER_TOKEN", raising=False)
    monkeypatch.setenv("CROWDFILL_DATA_DIR", str(tmp_path / "elsewhere"))
    settings, _ = server_side.Settings.from_env({}, data_dir=tmp_path / "data")
    assert requester_token(parsed("--data-dir", str(tmp_path / "data"))) == settings.requester_token
    monkeypatch.setenv("CROWDFILL_DATA_DIR", str(tmp_path / "data"))
    assert requester_token(parsed()) == settings.requester_token
    assert requester_token(parsed("--token", "given")) == "given"  # an explicit token wins


def test_the_current_directory_default_is_the_servers_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROWDFILL_REQUESTER_TOKEN", raising=False)
    monkeypatch.delenv("CROWDFILL_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert requester_token(parsed()) is None  # no server ran here
    settings, _ = server_side.Settings.from_env({})
    assert requester_token(parsed()) == settings.requester_token


def test_a_refused_token_says_where_the_server_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROWDFILL_DATA_DIR", str(tmp_path / "data"))
    refuse = httpx.MockTransport(
        lambda request: httpx.Response(
            401, json={"error": {"code": "unauthorized", "message": "a requester token is required"}}
        )
    )
    with (
        Client("http://crowdfill.test", None, transport=refuse) as client,
        pytest.raises(Unauthorized) as raised,
    ):
        client.tables()
    message = str(raised.value)
    assert str(tmp_path / "data" / "requester-token") in message
    assert "--token" in message
    assert "CROWDFILL_REQUESTER_TOKEN" in message
