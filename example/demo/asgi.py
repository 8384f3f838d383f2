"""The demo's one ASGI app: the API under /api, the Django admin under /admin, and the
interactive API docs at /docs, served with no internet (Swagger UI's files come from the
fastapi-offline package, not a CDN).

    uvicorn demo.asgi:app        (from example/)

DJFAPI_THREADS=<n> caps the threads that run requests' ORM work at n (anyio's default is 40);
see the README's Deployment section for the size that served best.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
django.setup()

import anyio.to_thread  # noqa: E402
import fastapi_offline  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.openapi.docs import get_swagger_ui_html  # noqa: E402
from fastapi.responses import HTMLResponse, RedirectResponse  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402

import djfapi  # noqa: E402
from demo.api import router  # noqa: E402

SWAGGER_FILES = Path(fastapi_offline.__file__).parent / "static"
ADMIN_FILES = Path(admin.__file__).parent / "static" / "admin"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the threadpool before the first request: the limiter belongs to the event loop."""
    if os.environ.get("DJFAPI_THREADS"):
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(os.environ["DJFAPI_THREADS"])
    yield


app = FastAPI(title="djfapi demo", version=djfapi.__version__, docs_url=None, redoc_url=None,
              lifespan=lifespan)
djfapi.install(app)
app.include_router(router, prefix="/api")
app.mount("/static/docs", StaticFiles(directory=SWAGGER_FILES), name="docs-files")
app.mount("/static/admin", StaticFiles(directory=ADMIN_FILES), name="admin-files")


@app.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title="djfapi demo",
        swagger_js_url="/static/docs/swagger-ui-bundle.js",
        swagger_css_url="/static/docs/swagger-ui.css",
        swagger_favicon_url="/static/docs/favicon.png",
    )


@app.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/docs")


app.mount("/admin", get_asgi_application())
