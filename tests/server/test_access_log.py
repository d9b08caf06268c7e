"""Worker tokens never reach the access log, at the default log level of ``crowdfill serve``."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx

from crowdfill.server.access_log import RedactTokens, redact
from tests.support.live_server import ServerProcess
from tests.support.requester import CAPITALS, create_table, worker_token


def test_token_values_are_replaced_wherever_they_are_in_the_query() -> None:
    assert redact("/w/t-1?token=abc.def") == "/w/t-1?token=***"
    assert redact("/w/t-1?a=1&token=abc&b=2") == "/w/t-1?a=1&token=***&b=2"
    assert redact("/w/t-1?TOKEN=abc") == "/w/t-1?TOKEN=***"
    assert redact("/w/t-1?stoken=keep&x=1") == "/w/t-1?stoken=keep&x=1"
    assert redact("/api/tables") == "/api/tables"


def test_the_filter_rewrites_uvicorn_access_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', None, None
    )
    record.args = ("127.0.0.1:5000", "GET", "/w/t-1?token=SECRET", "1.1", 200)
    assert RedactTokens().filter(record)
    assert "SECRET" not in record.getMessage()
    assert "token=***" in record.getMessage()


async def test_serve_logs_requests_without_their_token(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=["--log-level", "info", "--access-log"]).start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            table = await create_table(http, CAPITALS)
            token = await worker_token(http, table["id"], "ann")
            assert (await http.get(f"/w/{table['id']}", params={"token": token})).status_code == 200
            await http.get(f"/api/tables/{table['id']}/public", params={"rows": "true", "token": token})
            marker = await http.get("/api/tables", params={"done": "1"})
            assert marker.status_code == 200
    finally:
        process.stop()
    log = process.log_path.read_text()
    assert "done=1" in log  # the access log is on, and written up to the last request
    assert token not in log
    assert f"/w/{table['id']}?token=***" in log


async def test_serve_logs_no_requests_unless_asked_so_the_printed_urls_stay_on_screen(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path / "data", extra_args=["--log-level", "info"]).start()
    try:
        async with httpx.AsyncClient(base_url=process.base_url, headers=process.headers) as http:
            for _ in range(5):
                assert (await http.get("/api/tables", params={"marker": "1"})).status_code == 200
    finally:
        process.stop()
    log = process.log_path.read_text()
    assert "CrowdFill is running at" in log  # the log was written (info level)
    assert "marker=1" not in log
