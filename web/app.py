"""The web app factory: staff console, widget page and widget API in one FastAPI app."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from crm.db import get_engine
from crm.settings import get_settings
from web.corrections import EXPORT_DIR
from web.deps import LoginRequired
from web.templating import build_templates, render
from web.views import (
    admin,
    auth,
    conversations,
    corrections,
    dashboard,
    handoff,
    inbox,
    widget,
)

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "kefu_console"
SESSION_MAX_AGE = 8 * 3600


def session_secret(configured: str) -> str:
    """The configured SESSION_SECRET, or (with none) a random one for this process."""
    if configured:
        return configured
    logger.warning(
        "no SESSION_SECRET set (run `make secrets`): staff sessions end when this "
        "process stops and are not shared with other web processes"
    )
    return secrets.token_urlsafe(32)


def create_app(
    engine: Engine | Connection | None = None, *, export_dir: Path | None = None
) -> FastAPI:
    """The console app on `engine` (default: the configured CRM database).

    A Connection may be passed instead (tests): sessions then commit into savepoints
    of its outer transaction."""
    settings = get_settings()
    app = FastAPI(
        title="kefu console",
        summary="Staff review console and chat widget API of the kefu assistant.",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    bind = engine if engine is not None else get_engine()
    app.state.sessionmaker = sessionmaker(
        bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    app.state.templates = build_templates()
    app.state.export_dir = export_dir or EXPORT_DIR
    app.state.rasa_url = settings.rasa_url
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings.session_secret),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        auth,
        inbox,
        conversations,
        handoff,
        corrections,
        dashboard,
        admin,
        widget,
    ):
        app.include_router(module.router)
    _add_error_handlers(app)
    return app


def _connect_sources(rasa_url: str) -> str:
    parts = urlsplit(rasa_url)
    if not parts.netloc:
        return "'self'"
    socket = "wss" if parts.scheme == "https" else "ws"
    return f"'self' {parts.scheme}://{parts.netloc} {socket}://{parts.netloc}"


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A strict content security policy and the usual hardening headers."""
    response = await call_next(request)
    connect = _connect_sources(request.app.state.rasa_url)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:; connect-src {connect}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(
        (".svg", ".yml")
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _: Exception) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": error.detail},
                status_code=error.status_code,
                headers=getattr(error, "headers", None),
            )
        return _error_page(request, error.status_code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(_describe(e) for e in error.errors()[:5])
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return _error_page(request, 422, problems)

    @app.exception_handler(DataError)
    async def bad_value(request: Request, error: DataError) -> Response:
        logger.warning(
            "value refused by the database on %s: %s", request.url.path, error.orig
        )
        detail = "a value in this request cannot be stored or searched"
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=400)
        return _error_page(request, 400, detail)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, error: OperationalError) -> Response:
        logger.error("database error on %s: %s", request.url.path, error.orig)
        detail = "the database is not available right now; try again in a minute"
        if _wants_json(request):
            return JSONResponse({"detail": detail}, status_code=503)
        return _error_page(request, 503, detail)


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    return f"{where}: {error.get('msg', 'invalid')}"


def _error_page(request: Request, status: int, detail: str) -> Response:
    titles = {
        400: "Bad request",
        401: "Please log in",
        403: "Not allowed",
        404: "Not found",
        405: "Method not allowed",
        422: "Bad request",
        429: "Too many attempts",
        503: "Unavailable",
    }
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, "Error"), "detail": detail},
        status_code=status,
    )
