"""The application factory: every plugin and middleware of the web app, listed in one place."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from advanced_alchemy.extensions.litestar.store import SQLAlchemyStore
from litestar import Litestar, MediaType, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.logging.config import StructLoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.prometheus import PrometheusConfig
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from litestar.response import Template

import voice.models  # noqa: F401  (every table mapped before the first request)
from voice import __version__, platform
from voice.accounts.models import StoreItem
from voice.db import describe, sqlalchemy_config
from voice.serving import SUPERVISOR_ENV
from voice.settings import Settings, get_settings
from voice.web.assets import Assets, static_files
from voice.web.auth import AuthMiddleware
from voice.web.errors import exception_handlers
from voice.web.hygiene import InputHygieneMiddleware
from voice.web.locale import LocaleMiddleware
from voice.web.metrics import MetricsController
from voice.web.openapi import declare_text_rule, document_errors, exact_allow_headers, security_components
from voice.web.pages import health, home
from voice.web.security_headers import SecurityHeadersMiddleware
from voice.web.sessions import SessionConfig
from voice.web.templating import template_config
from voice.web.transactions import commit_before_answer
from voice.worker import run_worker, stop_when_orphaned

log = logging.getLogger("voice")

# Paths that need neither a session nor a user: static files and the health probe.
_NO_AUTH = ["^/static/", "^/health$", "^/schema", "^/metrics"]


@asynccontextmanager
async def _inprocess_worker(app: Litestar) -> AsyncIterator[None]:
    """Run the job worker beside the web server (`voice serve` on the embedded database, browser tests);
    `voice run` starts it as a child process instead, production runs `voice worker`."""
    settings: Settings = app.state.settings

    async def keep_running() -> None:
        # A worker that dies (database restarted, tables truncated) is started again after a pause.
        while True:
            try:
                await run_worker(settings, url=app.state.db_config.connection_string)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("in-process job worker stopped; restarting in 5 s")
            await asyncio.sleep(5)

    task = asyncio.create_task(keep_running())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@asynccontextmanager
async def _stop_with_supervisor(app: Litestar) -> AsyncIterator[None]:
    """A web process among several (`voice run`, `voice serve --workers N`) whose supervisor is killed
    (SIGKILL) stops too: nothing else would stop it, and it would keep the port and its connections."""
    watch = asyncio.create_task(stop_when_orphaned(int(os.environ[SUPERVISOR_ENV])))
    try:
        yield
    finally:
        watch.cancel()


def _warm_start() -> None:
    """Before the first request: the text checks import their NLP modules (the first request of each
    worker waited about two seconds for them), then everything loaded so far leaves the cyclic garbage
    collector's sight: full collections over it took about a fifth of the CPU under load and stalled
    requests for 200-300 ms (docs/benchmarks.md)."""
    from voice.text import warm_up

    warm_up()
    gc.freeze()


def create_app(settings: Settings | None = None, sections: dict[str, Any] | None = None) -> Litestar:
    """The web app. ``sections`` overrides components' settings sections (read from the environment
    otherwise); tests use it to run a component in another mode."""
    settings = settings or get_settings()
    db = sqlalchemy_config(settings)
    # One transaction per request, committed on 2xx and 3xx (a form POST answered with a redirect
    # commits too); a failed commit answers 503 instead of the success page. Set after construction:
    # the hook needs the scope key the config picked for its sessions.
    db.before_send_handler = commit_before_answer(db.session_scope_key)
    assets = Assets(settings.static_dir)  # one fingerprint table for the pages and the route
    log.info("database: %s", describe(db.connection_string or ""))

    sessions = SessionConfig(
        store="sessions",
        key="voice_session",
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        # API paths never read the session (AuthMiddleware takes only Bearer tokens there): loading it
        # would cost a database read for a browser that happens to carry the cookie.
        exclude=[*_NO_AUTH, "^/api/", "^/open311/"],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="voice_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="strict",
        header_name="x-csrftoken",
        # Pages hand the token to htmx and forms themselves; scripts never need to read the cookie.
        cookie_httponly=True,
        # API clients authenticate with Bearer tokens, never cookies (see AuthMiddleware), so
        # cross-site forgery has nothing to ride on there. Anchored: these are regexes.
        exclude=["^/api/", "^/open311/"],
    )
    middleware: list = [
        LocaleMiddleware,
        SecurityHeadersMiddleware,
        # Before sessions, sign-in and CSRF: a request no handler could store is refused first.
        InputHygieneMiddleware,
        sessions.middleware,
        DefineMiddleware(AuthMiddleware, exclude=_NO_AUTH),
    ]
    handlers: list = []
    if settings.metrics:
        # Paths are grouped by route template ("/track/{code}"), so tracking codes never become labels.
        prometheus = PrometheusConfig(app_name="voice", prefix="voice", group_path=True,
                                      exclude=["^/static/", "^/metrics"])
        middleware.insert(0, prometheus.middleware)
        handlers.append(MetricsController)
    if settings.rate_limit_enabled:
        middleware.append(
            RateLimitConfig(
                rate_limit=("minute", settings.rate_limit_per_minute),
                store="rate_limits",
                exclude=["^/static/", "^/health$", "^/metrics"],
            ).middleware
        )

    app = Litestar(
        route_handlers=[
            *handlers,
            home,
            health,
            *platform.route_handlers(),
            static_files(assets),
        ],
        plugins=[
            SQLAlchemyPlugin(config=db),
            HTMXPlugin(),
            # Pretty console lines in a terminal, JSON lines otherwise (containers, log shippers).
            StructlogPlugin(config=StructlogConfig(
                structlog_logging_config=_structlog_config(settings.log_level),
                # A line per request and per response with no bodies, cookies or headers: they carry personal
                # data, session ids and CSRF tokens that have no place in logs.
                middleware_logging_config=LoggingMiddlewareConfig(
                    request_log_fields=("path", "method"),
                    response_log_fields=("status_code",),
                    exclude=["^/static/", "^/health$"],
                ),
                # Above INFO the lines would be dropped anyway: skip the middleware that builds them.
                enable_middleware_logging=settings.log_level.upper() in ("DEBUG", "INFO"),
            )),
        ],
        middleware=middleware,
        csrf_config=csrf,
        stores={
            # Shared by every web process through PostgreSQL: sessions must survive a restart and
            # a rate limit must hold across processes, which the in-memory store does not do.
            "sessions": SQLAlchemyStore(db, model=StoreItem, namespace="sessions"),
            "rate_limits": SQLAlchemyStore(db, model=StoreItem, namespace="rate_limits"),
            "throttle": SQLAlchemyStore(db, model=StoreItem, namespace="throttle"),
        },
        template_config=template_config(settings, assets),
        lifespan=[*platform.lifespans(), *([_inprocess_worker] if settings.inprocess_worker else []),
                  *([_stop_with_supervisor] if SUPERVISOR_ENV in os.environ else [])],
        on_startup=[_warm_start],
        openapi_config=OpenAPIConfig(
            title="Voice API",
            version=__version__,
            description="Feedback on government e-services, ideas and award evidence. Arabic first.",
            path="/schema",
            components=security_components(),  # the Bearer scheme; document_errors says which operations use it
            # Swagger UI served from our static files: the stock plugin would load it from a CDN.
            render_plugins=[
                SwaggerRenderPlugin(
                    path="/",
                    js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                    css_url="/static/vendor/swagger-ui/swagger-ui.css",
                    standalone_preset_js_url="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                    favicon="<link rel='icon' href='/static/favicon.svg'>",
                )
            ],
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        exception_handlers=exception_handlers,
        state=State({"settings": settings, "db_config": db, "sections": {**platform.sections(), **(sections or {})}}),
        # Handlers that may answer a page or a redirect are annotated loosely; pages are still HTML.
        after_request=_html_templates,
        debug=False,  # never show tracebacks to visitors, even in development
        request_max_body_size=2 * 1024 * 1024,
    )
    document_errors(app)
    declare_text_rule(app)
    exact_allow_headers(app)
    return app


def _structlog_config(level: str) -> StructLoggingConfig:
    """Litestar's defaults at the configured level, plus tracebacks rendered as text for standard-library
    loggers.

    Litestar's default structlog wrapper logs everything from INFO up whatever ``VOICE_LOG_LEVEL`` says;
    a filtering wrapper makes the setting hold for the request lines too. Without ``format_exc_info`` the
    JSON renderer meets the raw exc_info tuple of any ``logger.exception(...)`` call and fails, losing the
    very log line that mattered.
    """
    import logging

    import structlog

    numeric = logging.getLevelName(level.upper())
    config = StructLoggingConfig(
        wrapper_class=structlog.make_filtering_bound_logger(numeric if isinstance(numeric, int) else logging.INFO))
    formatter = (config.standard_lib_logging_config.formatters or {}).get("standard", {}) \
        if config.standard_lib_logging_config else {}
    processors = formatter.get("processors")
    if processors and config.as_json():
        processors.insert(len(processors) - 1, structlog.processors.format_exc_info)
    return config


async def _html_templates(response: Response) -> Response:
    """A Template returned from a handler annotated ``-> Any`` would inherit the route's JSON media
    type, and with ``nosniff`` the browser would show the page's source. Templates are HTML."""
    if isinstance(response, Template) and response.media_type in (None, MediaType.JSON):
        response.media_type = MediaType.HTML
    return response
