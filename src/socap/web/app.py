"""The dashboard and JSON API: ``create_app(runtime)`` (``socap web``, and inside ``socap run``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from socap.auth import service as auth_service
from socap.runtime import Runtime
from socap.web.deps import ApiUser, LoginRequired, PageUser, login_url
from socap.web.security import LoginLimiter, SecurityHeaders, security_headers
from socap.web.templating import templates

STATIC_DIR = Path(__file__).parent / "static"
# Swagger UI's files as the fastapi-offline package ships them (FastAPI's own /docs page loads them from a CDN)
SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"
API_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SOCAP API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"><link rel="icon" href="/static/favicon.svg"></head>
<body><div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script><script src="/static/api-docs.js"></script>
</body></html>
"""
# plain, with nothing that could fail to render
SERVER_ERROR_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error · SOCAP</title>'
                     '<link rel="stylesheet" href="/static/app.css"></head><body><main><section class="card narrow">'
                     '<h1>Error 500</h1><p>Something went wrong on our side; it has been logged.</p>'
                     '<p><a href="/">Back to campaigns</a></p></section></main></body></html>')
SESSION_DAYS = auth_service.SESSION_DAYS  # the cookie lives as long as the server-side session


def wants_json(request: Request) -> bool:
    """Errors of the API and the machine-read routes are JSON; the pages' are HTML."""
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/openapi.json", "/metrics")


@cache
def plotly_js() -> bytes:
    """Plotly's bundle from the installed package: the pages work with no internet."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


def create_app(runtime: Runtime) -> FastAPI:
    from socap.web.cache import make_cache
    from socap.web.routes import api, auth, metrics, pages, reports

    settings = runtime.settings
    # the schema and its viewer are served below, behind sign-in like everything else
    app = FastAPI(title="SOCAP", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  description="Campaign monitoring for launches on X. Authenticate with "
                              "`Authorization: Bearer TOKEN` (create one with `socap user token EMAIL`).")
    app.state.runtime = runtime
    app.state.cache = make_cache(settings)
    app.state.login_limiter = LoginLimiter(now=lambda: runtime.clock.now().timestamp())
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key.get_secret_value(),
                       session_cookie="socap_session", max_age=SESSION_DAYS * 86400, same_site="lax",
                       https_only=settings.secure_cookies)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if wants_json(request):
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                                          status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        # Starlette sends this from outside every middleware: the security headers are added here; the cause
        # goes to the log (uvicorn logs the traceback), never to the client
        headers = {k.decode(): v.decode() for k, v in security_headers(request.url.path, hsts=settings.secure_cookies)}
        if wants_json(request):
            return JSONResponse({"detail": "internal server error"}, status_code=500, headers=headers)
        return HTMLResponse(SERVER_ERROR_PAGE, status_code=500, headers=headers)

    @app.get("/openapi.json", include_in_schema=False)
    def _openapi(user: ApiUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def _docs(user: PageUser) -> HTMLResponse:
        return HTMLResponse(API_DOCS_PAGE)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def _plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_DIR), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router)
    app.include_router(api.router)
    app.include_router(metrics.router)
    app.include_router(reports.router)
    app.include_router(pages.router)
    return app
