"""The interactive API documentation (Swagger UI) served entirely from this site.

FastAPI's default page loads Swagger UI from a CDN, so on a plant network without internet it
is a blank page. The assets come from the ``fastapi-offline`` package (Swagger UI 5, which
reads the OpenAPI 3.1 document FastAPI writes); only the page that starts them is ours."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI, *, openapi_url: str, title: str) -> None:
    """The docs page, its OAuth2 redirect page and the assets, as plain routes (like
    FastAPI's own docs: outside the API's schema and access table)."""

    async def docs_page(_request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
        )

    async def oauth2_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_URL, docs_page, include_in_schema=False)
    app.add_route(f"{DOCS_URL}/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS)), name="api-docs-assets")
