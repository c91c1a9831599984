"""ReDoc from the assets of the fastapi-offline package, with its one remote reference (the
Redocly logo on a CDN) pointed at the service's own favicon, so no page of the API
documentation names another host."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC = "/static-offline-docs"  # where fastapi-offline mounts its assets
REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

router = APIRouter(include_in_schema=False)


@cache
def redoc_script() -> bytes:
    """Read once per process, on the first request (not at import)."""
    text = (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(REMOTE_LOGO, f"{STATIC}/favicon.png").encode()


@router.get("/docs-assets/redoc.standalone.js")
def redoc_js() -> Response:
    return Response(
        redoc_script(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title="Xiaobao Ledger - ReDoc",
        redoc_js_url=f"{root}/docs-assets/redoc.standalone.js",
        redoc_favicon_url=f"{root}{STATIC}/favicon.png",
        with_google_fonts=False,
    )
