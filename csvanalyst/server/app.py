"""The FastAPI application: the same operations as the core, over HTTP, with the web page at `/`.

`create_app` takes everything from its arguments so tests (and `csvanalyst serve`) decide the token,
the limits, the executor and how model clients are made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from csvanalyst import __version__
from csvanalyst.config import Settings, get_settings
from csvanalyst.errors import CsvAnalystError
from csvanalyst.executors.base import Executor
from csvanalyst.observability.metrics import Metrics
from csvanalyst.server import problems
from csvanalyst.server.gateway import Gateway
from csvanalyst.server.limits import Admission, BoundedExecutor, ServerLimits
from csvanalyst.server.origin import OriginPolicy
from csvanalyst.server.recovery import fail_interrupted_runs, sweep_leftovers
from csvanalyst.server.routes import chat, datasets, health, runs, threads
from csvanalyst.server.state import ClientFactory, ServerState

STATIC = Path(__file__).parent / "static"
# The page may talk to this server only, and show images it made itself: a chart spec that slipped a
# URL past viz/safety.py still cannot fetch from, or send data to, anywhere else.
PAGE_CSP = "connect-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; form-action 'self'"


def create_app(
    *,
    settings: Settings | None = None,
    token: str | None = None,
    limits: ServerLimits | None = None,
    executor: Executor | None = None,
    client_factory: ClientFactory | None = None,
    provider: str = "auto",
    model: str | None = None,
    cors_origins: tuple[str, ...] = (),
    bound_host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
) -> FastAPI:
    settings = settings or get_settings()
    limits = limits or ServerLimits()
    metrics = Metrics()
    state = ServerState(
        settings=settings,
        executor=BoundedExecutor(executor or _default_executor(settings), limits, metrics),
        limits=limits,
        metrics=metrics,
        admission=Admission(limits, metrics),
        client_factory=client_factory,
        provider=provider,
        model=model,
    )
    app = FastAPI(
        title="csvanalyst",
        version=__version__,
        lifespan=_lifespan,
        description=__doc__,
        docs_url=None,  # served by _add_docs from the package's own copy of Swagger UI
        redoc_url=None,  # ReDoc would load its script from a CDN; /docs covers it
    )
    app.state.csvanalyst = state
    for router in (health.router, datasets.router, runs.router, chat.router, threads.router):
        app.include_router(router)
    _add_page(app)
    _add_docs(app)
    _add_handlers(app)
    if cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["*"], allow_headers=["*"])
    origins = OriginPolicy(
        bound_host=bound_host, allowed_hosts=allowed_hosts, cors_origins=cors_origins, token_required=bool(token)
    )
    app.add_middleware(Gateway, token=token, limits=limits, metrics=metrics, origins=origins)
    return app


def _default_executor(settings: Settings) -> Executor:
    from csvanalyst.executors.base import load

    # One long-lived sandbox backend for the whole server, keeping the next runner process started.
    return load(settings.sandbox, keep_warm=True)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: ServerState = app.state.csvanalyst
    fail_interrupted_runs(state.settings.store_path)
    sweep_leftovers()
    try:
        yield
    finally:
        state.executor.close()


def _add_page(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(
            STATIC / "index.html", headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP}
        )


SWAGGER = "/static/vendor/swagger-ui"


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from files shipped in the package (swagger-ui-dist), so it works offline.

    FastAPI's default page loads its script and stylesheet from a CDN and its icon from fastapi's site;
    the validator badge would call validator.swagger.io. None of that leaves this server here.
    """
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )


def _add_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CsvAnalystError, problems.on_error)
    app.add_exception_handler(StarletteHTTPException, problems.on_http)
    app.add_exception_handler(RequestValidationError, problems.on_validation)
    app.add_exception_handler(Exception, problems.on_unexpected)
