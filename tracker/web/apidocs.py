"""``/api/docs``: Swagger UI for the JSON API, served from this machine. FastAPI's default page loads
its script and style from a CDN, so it is blank offline and tells a third party who reads our docs.
Here the assets come from the ``fastapi-offline`` package's copy of Swagger UI 5 (which reads the
OpenAPI 3.1 document FastAPI writes), mounted under ``/api/docs/assets``."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/api/docs/assets"


def install(app: FastAPI, openapi_url: str, title: str) -> None:
    """Serve the docs page at ``/api/docs`` and the files it needs under ``ASSETS``."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="api-docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title}: API",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")
