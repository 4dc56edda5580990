"""The app factory: the REST API under ``/api/v1`` and the analyst workspace beside it."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool

from fusionhub.api import errors, fast_reads, routes
from fusionhub.api.deps import SessionCache
from fusionhub.api.jobs import ImportJobs
from fusionhub.api.middleware import DEFAULT_BODY_LIMIT, BodySizeLimit, SecurityHeaders
from fusionhub.model import load_model
from fusionhub.policy import audit
from fusionhub.store import Store

log = logging.getLogger("fusionhub.api")
API_PREFIX = "/api/v1"
UPLOAD_PATH = f"{API_PREFIX}/imports"


def _warm_up(store: Store) -> None:
    """Load what the first requests would otherwise load while users wait: the data
    model, and the search index with its nickname table where search is installed."""
    load_model()
    try:
        from fusionhub.search.follower import engine_for
    except ImportError:
        return
    engine_for(store)


def app_from_env() -> FastAPI:
    """The app of one process of ``fusionhub serve --processes N``: uvicorn starts each
    process afresh and builds its app here, from what ``serve`` put in the environment."""
    store = Store(os.environ["FUSIONHUB_STORE"])
    store.require_initialised()
    workers = int(os.environ.get("FUSIONHUB_IMPORT_WORKERS", "1"))
    return create_app(store, import_workers=workers, shared_jobs=True)


def api_router() -> APIRouter:
    """Every module of ``fusionhub.api.routes`` with a ``router``; a module whose domain
    has not landed in this build (ImportError) is left out rather than half-working."""
    root = APIRouter(prefix=API_PREFIX)
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        try:
            module = importlib.import_module(f"{routes.__name__}.{info.name}")
        except ImportError as exc:
            log.info("API routes %s not available: %s", info.name, exc)
            continue
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            root.include_router(router)
    return root


def create_app(
    store: Store, secure_cookies: bool = True, import_workers: int = 1, shared_jobs: bool = False
) -> FastAPI:
    """The whole application over ``store``.

    ``secure_cookies`` is off only for plain-HTTP test clients that are not a browser
    on loopback (browsers treat loopback as a secure context and accept them).
    ``shared_jobs`` publishes import progress to every process of a multi-process server.
    """
    board = store.data_dir / "import-jobs" if shared_jobs else None
    jobs = ImportJobs(store, workers=import_workers, board=board)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_warm_up, store)
        store.checkpoint_in_background()
        yield
        jobs.shutdown()
        store.stop_background_checkpoints()

    app = FastAPI(
        title="FusionHub API",
        version="1",
        description=(
            "Records of many partners, searched and shared with the privacy policy enforced by the system. "
            'Every error answers `{"error": {"code", "message", "details"}}`. Lists page with an opaque '
            "`cursor` (`next_cursor` of the previous page). Authenticate with the session cookie of "
            "`/login` (writes then need the `X-CSRF-Token` header) or a scoped bearer token."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The interactive docs load their scripts from a CDN; the product is air-gapped.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    # The audit chain's key and checkpoint follow this store's settings, not the environment.
    audit.bind(store)
    app.state.store = store
    app.state.secure_cookies = secure_cookies
    app.state.imports = jobs
    app.state.sessions = SessionCache()
    app.include_router(api_router())
    fast_reads.install(app.router.routes)

    from fusionhub.web import pages

    pages.install(app)
    errors.install(app, html=pages.error_page)
    max_upload = store.settings.max_upload_bytes

    def limit_for(path: str) -> int:
        return max_upload if path == UPLOAD_PATH else DEFAULT_BODY_LIMIT

    app.add_middleware(BodySizeLimit, limit_for=limit_for)
    app.add_middleware(SecurityHeaders)
    return app
