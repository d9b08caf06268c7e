"""The composition root: what starting a server costs before it serves (docs/scale.md, "Restarting")."""

from __future__ import annotations

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
