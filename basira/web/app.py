"""The web app: `create_app(service)` wires pages, the API, static files and security headers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from basira import __version__
from basira.core.errors import BasiraError, http_detail
from basira.core.i18n import speaking
from basira.review import network_panel  # noqa: F401 - registers the case page's network panel
from basira.review.auth import LoginLimiter
from basira.review.content import mark_output, strip_controls
from basira.review.service import DeliveryLoop, ReviewService, ReviewSettings
from basira.web import (
    api,
    compliance_api,
    compliance_pages,
    content_api,
    errors,
    guards,
    hash_panel,  # noqa: F401 - registers the case page's hash-match panel (web: it reads banks and review)
    hma_api,
    match_api,
    network_pages,
    pages,
)
from basira.web.compliance_reports import router as reports_router
from basira.web.security import NoticeSigner, NotLoggedIn, SecurityHeaders

HERE = Path(__file__).parent


def create_app(service: ReviewService, *, deliver_webhooks: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loop = DeliveryLoop(service) if deliver_webhooks and service.settings.webhook_url else None
        if loop:
            loop.start()
        orders_loop = compliance_api.background_loop(service) if deliver_webhooks else None  # alerts, purge
        if orders_loop:
            orders_loop.start()
        # The network analysis is not warmed here: over 100,000 posts it was ~12 s and ~15 CPU-seconds per server
        # process after every restart, a CPU-bound thread holding the GIL the queue's requests need (their pages
        # took 2-3x as long meanwhile). It is computed on first use instead: a network page waits for it, the
        # case page's panel starts it in the background and says so; both in a niced child process, off this
        # process's GIL (basira.network.cache.compute_apart).
        try:
            yield
        finally:
            if loop:
                loop.stop()
            if orders_loop:
                orders_loop.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Basira review API",
        version=__version__,
        description="Queue, claims, decisions, appeals, audit log and webhook deliveries.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI would need third-party JS; the schema is enough for integrators
        redoc_url=None,
        dependencies=[Depends(guards.request_guard)],  # ids in range, no NUL: before any route (guards.py)
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True  # every template, whatever its extension
    templates.env.globals["version"] = __version__
    from basira.web import i18n

    i18n.install(templates.env)
    from basira.web import labels

    labels.install(templates.env)  # category labels; reasons and evidence said again in the reader's language
    templates.env.filters["visible"] = strip_controls  # bidi/invisible controls shown as markers, one line
    templates.env.finalize = mark_output  # and marked in everything any template prints
    app.state.service = service
    app.state.templates = templates
    app.state.limiter = LoginLimiter(clock=time.monotonic)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(match_api.router)
    app.include_router(content_api.router)
    app.include_router(pages.router)
    app.include_router(network_pages.router)
    app.include_router(compliance_api.router)
    app.include_router(compliance_pages.router)
    from basira.web import banks_pages

    app.include_router(banks_pages.router)
    from basira.web import media_pages

    app.include_router(media_pages.router)  # a post's media, fetched only when a reviewer reveals it
    templates.env.globals.update(case_media_src=media_pages.case_media_src,
                                 target_media_src=media_pages.target_media_src)
    app.include_router(reports_router)
    for router in hma_api.routers:  # HMA-compatible /c, /h, /m, /livez, /readyz (docs/hash-matching.md)
        app.include_router(router)
    app.add_middleware(NoticeSigner)
    app.add_middleware(SecurityHeaders)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or hma_api.is_hma_path(request.url.path)

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if hma_api.is_hma_path(request.url.path):
            return hma_api.error_response(401, "not authenticated", {"WWW-Authenticate": "Bearer"})
        if wants_json(request) or request.method != "GET":
            return JSONResponse(errors.body(401, "not authenticated"), status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if hma_api.is_hma_path(request.url.path):
            return hma_api.error_response(exc.status_code, exc.detail, exc.headers)
        with speaking(pages.lang_of(request)):  # msg in the reader's language; loc and type stay the same
            items = errors.localised_items(errors.error_items(exc.status_code, exc.detail))
        if wants_json(request):
            return JSONResponse({"detail": items}, status_code=exc.status_code, headers=exc.headers)
        return pages.render(request, "error.html", status_code=exc.status_code, status=exc.status_code,
                            detail=errors.message(items))

    @app.exception_handler(BasiraError)
    async def refused(request: Request, exc: BasiraError) -> Response:
        """The one handler for what Basira refuses and no route caught: the status its kind maps to."""
        status, detail = http_detail(exc)
        if exc.template and isinstance(detail, str):  # raised with a template: translated from it
            with speaking(pages.lang_of(request)):
                detail = errors.describe(exc)
        return await http_error(request, StarletteHTTPException(status, detail))

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        """The backstop behind guards.py: a number (or text) the database cannot hold is the client's 422, not a
        500 — whichever route let it through."""
        if isinstance(exc, DataError) and not any(w in str(exc.orig) for w in ("out of range", "NUL", "0x00")):
            raise exc
        return await http_error(request, StarletteHTTPException(422, [
            {"loc": [], "msg": "a value is out of the range the database can store", "type": "out_of_range"}]))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        with speaking(pages.lang_of(request)):  # msg in the reader's language; loc and type stay the same
            items = errors.validation_items(exc.errors())
        if hma_api.is_hma_path(request.url.path):
            return hma_api.error_response(422, errors.message(items))
        if wants_json(request):
            return JSONResponse({"detail": items}, status_code=422)
        return pages.render(request, "error.html", status_code=422, status=422, detail=errors.message(items))

    # HMA-compatible routes keep HMA's own error body ({"message": ...}); the schema says so for them.
    errors.install_openapi(app, other=(hma_api.is_hma_path, "HMAError", errors.MESSAGE_SCHEMA))
    return app


__all__ = ["create_app", "HTTPException"]


def app_from_env() -> FastAPI:
    """App factory for multi-process serving (`basira serve --workers N`): settings come from the environment."""
    from basira.core.settings import Settings
    from basira.review.service import open_review_store

    s = Settings.from_env()
    svc = ReviewService(open_review_store(s.db_url), ReviewSettings.from_settings(s, secure_cookies=not s.insecure_cookies))
    return create_app(svc, deliver_webhooks=s.delivery_worker)
