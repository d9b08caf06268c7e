"""The browser pages (files under ``web/``, written by the web pages' owner); served, not built, here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from crowdfill.server.failures import Failure

SOCKET_IO_CLIENT = Path("node_modules/socket.io-client/dist/socket.io.min.js")


def page_router(web_dir: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def serve(relative: Path, media_type: str | None = None) -> Response:
        path = web_dir / relative
        if not path.is_file():
            raise Failure(
                "page_missing",
                f"{relative} is not installed under the web directory (see README for setting up web/)",
            )
        return FileResponse(path, media_type=media_type)

    @router.get("/")
    async def home() -> Response:
        return serve(Path("index.html"))

    @router.get("/tables/{table_id}/monitor")
    async def monitor(table_id: str) -> Response:
        return serve(Path("monitor.html"))

    @router.get("/w/{table_id}")
    async def worker(table_id: str) -> Response:
        return serve(Path("worker.html"))

    @router.get("/vendor/socket.io.min.js")
    async def socket_io_client() -> Response:
        return serve(SOCKET_IO_CLIENT, "text/javascript")

    return router


# What the pages load from /static/: everything else under web/ (node_modules/, package.json,
# the lock file) stays private. The socket.io client is served on its own at /vendor/.
STATIC_FOLDERS = ("js", "css")
STATIC_FILES = ("favicon.svg",)


def mount_static(app: FastAPI, web_dir: Path) -> None:
    for folder in STATIC_FOLDERS:
        # check_dir=False: the server starts (and answers 404) even before web/ exists.
        app.mount(
            f"/static/{folder}",
            StaticFiles(directory=web_dir / folder, check_dir=False),
            name=f"static-{folder}",
        )
    for name in STATIC_FILES:
        app.add_api_route(
            f"/static/{name}", _static_file(web_dir, Path(name)), methods=["GET"], include_in_schema=False
        )


def _static_file(web_dir: Path, relative: Path) -> Callable[[], Awaitable[Response]]:
    async def serve() -> Response:
        path = web_dir / relative
        if not path.is_file():
            raise Failure("page_missing", f"{relative} is not installed under the web directory")
        return FileResponse(path)

    return serve
