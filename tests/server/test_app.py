"""The composition root: what starting a server costs before it serves (docs/scale.md, "Restarting")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.imports import in_fresh_interpreter

# Imported by nothing a server needs until it uses them: a database driver it is not configured
# for, the webhooks' HTTP client (and the SDK around its signing) before the first delivery, the
# API docs package's own modules (only its static files are served).
UNUSED_AT_START = ("pymongo", "psycopg", "httpx", "crowdfill.client", "swagger_ui", "jinja2", "yaml")

_PROBE = f"""
import asyncio, sys
from crowdfill.server.app import create_app
from crowdfill.server.settings import Settings

app = create_app(Settings(requester_token="t" * 24, secret="s" * 32, store_url="memory://"))

async def start_and_stop() -> None:
    async with app.api.router.lifespan_context(app.api):
        pass

asyncio.run(start_and_stop())
print(sorted(name for name in {UNUSED_AT_START!r} if name in sys.modules))
"""


def test_starting_a_server_imports_no_driver_http_client_or_template_engine_it_does_not_use() -> None:
    # A fresh interpreter: this test process has imported all of them already.
    result = in_fresh_interpreter(_PROBE)
    assert result.stdout.strip() == "[]"


_CLIENTS_PROBE = """
import sys
from crowdfill.server.client_libraries import CLIENT_LIBRARIES, without_client_libraries

with without_client_libraries():
    from crowdfill.server.app import create_app
print(sorted(name for name in CLIENT_LIBRARIES if name in sys.modules))
import aiohttp, requests  # after the block they import as usual
print(aiohttp.__name__, requests.__name__)
"""


def test_the_servers_modules_import_without_the_socketio_clients_http_libraries() -> None:
    result = in_fresh_interpreter(_CLIENTS_PROBE)
    assert result.stdout.split("\n")[:2] == ["[]", "aiohttp requests"]


_SERVE_PROBE = """
import os, sys, uvicorn
from crowdfill.cli import main
from crowdfill.server.client_libraries import CLIENT_LIBRARIES

async def serve(self, sockets=None):  # the server is built: what did it import?
    print(sorted(name for name in CLIENT_LIBRARIES if name in sys.modules), flush=True)
    os._exit(0)

uvicorn.Server.serve = serve
main(["serve", "--port", "0", "--data-dir", sys.argv[1], "--requester-token", "t" * 24, "--secret", "s" * 32])
"""


def test_the_serve_command_imports_none_of_the_socketio_clients_http_libraries(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_PROBE, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
