"""``/docs`` without the internet: Swagger UI's files come from the ``swagger-ui-py`` package.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN, so offline (a lab, a train, a
firewalled server) it is a blank page. The same page, pointed at files served from here, is not.
(``swagger-ui-bundle`` has Swagger UI 4, which cannot read the OpenAPI 3.1 FastAPI writes;
``swagger-ui-py`` has Swagger UI 5. Only its static files are used, never its web framework glue.)
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from crowdfill.server.failures import Failure

DOCS_ASSETS = "/vendor/swagger-ui"
# Only what the page loads (the package also ships source maps and an ES build of several MB).
_ASSET_NAMES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "oauth2-redirect.html")


def mount_docs(app: FastAPI, title: str) -> None:
    """``/docs`` (Swagger UI) on local assets; the app must be made with ``docs_url=None``."""
    router = APIRouter(include_in_schema=False)
    redirect = "/docs/oauth2-redirect"

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} - API docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=redirect,
        )

    @router.get(redirect)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    folder = _static_folder()

    @router.get(DOCS_ASSETS + "/{name}")
    async def asset(name: str) -> Response:
        # A fixed list, not the folder: nothing else of the package (or the disk) is reachable.
        if name not in _ASSET_NAMES or not (folder / name).is_file():
            raise Failure("not_found", f"no API docs asset named {name!r}")
        return FileResponse(folder / name)

    app.include_router(router)


def _static_folder() -> Path:
    # Found, not imported: the package's own modules (its framework glue, jinja2, yaml) are never used.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package (the API docs' files) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
