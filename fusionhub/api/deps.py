"""Typed dependencies: the store, and who is asking (session cookie or scoped bearer token).

Authentication itself lives in ``fusionhub.policy.auth``; this module only carries
HTTP: it reads the cookie or the ``Authorization`` header, checks the CSRF token of a
cookie-authenticated write, and asks the policy who the token belongs to. Role checks
are declared per operation with :class:`Authenticated`, never repeated in handlers.
"""

from __future__ import annotations

import hmac
import importlib
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from fusionhub.api.errors import ApiError
from fusionhub.policy.actor import Actor
from fusionhub.store import Store

T = TypeVar("T")
SESSION_COOKIE = "fh_session"
CSRF_COOKIE = "fh_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A scoped API token from `POST /api/v1/auth/tokens`.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The browser session after /login.")


class SessionCache:
    """Sessions checked by the policy within the last ``ttl`` seconds, per app.

    ``session_actor`` is a write (it touches last-seen for the idle lock); a page with
    its htmx requests and scripts would otherwise pay one write per request. Logging
    out through this app evicts at once; a session ended elsewhere (user disabled,
    idle lock) is refused within ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._seen: dict[str, tuple[Actor, float]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Actor | None:
        """The actor if the policy checked this session within ``ttl`` seconds; no I/O."""
        with self._lock:
            hit = self._seen.get(token)
        if hit is not None and time.monotonic() - hit[1] < self.ttl:
            return hit[0]
        return None

    def actor(self, store: Store, token: str) -> Actor:
        hit = self.cached(token)
        if hit is not None:
            return hit
        now = time.monotonic()
        actor: Actor = auth_module().session_actor(store, token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[token] = (actor, now)
        return actor

    def forget(self, token: str) -> None:
        with self._lock:
            self._seen.pop(token, None)


def session_actor(request: Request, token: str) -> Actor:
    cache: SessionCache | None = getattr(request.app.state, "sessions", None)
    if cache is None:
        actor: Actor = auth_module().session_actor(get_store(request), token)
        return actor
    return cache.actor(get_store(request), token)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _store_dependency(request: Request) -> Store:
    # async: FastAPI runs a plain ``def`` dependency on the thread pool, one more hop per request.
    return get_store(request)


StoreDep = Annotated[Store, Depends(_store_dependency)]


def auth_module() -> Any:
    try:
        return importlib.import_module("fusionhub.policy.auth")
    except ImportError as exc:  # the policy's authentication has not been installed
        raise ApiError(503, "auth_unavailable", "authentication is not available in this build") from exc


async def check_csrf(request: Request) -> None:
    """A write authenticated by cookie must echo the CSRF cookie (double submit).

    Cookies are SameSite=Strict as well; the token guards browsers and proxies that
    do not honour that. Bearer-token requests carry no ambient credential and skip it.
    """
    if request.method in SAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise ApiError(403, "csrf_failed", "the form's CSRF token is missing or stale; reload the page")


class Authenticated:
    """Dependency: the actor behind the request, with ``scope`` for tokens and one of ``roles``.

    ``Depends(Authenticated("records:read"))`` documents both schemes in OpenAPI and
    answers 401 when nobody is logged in, 403 when the roles do not fit.
    """

    def __init__(self, scope: str | None, roles: tuple[str, ...] = ()) -> None:
        self.scope = scope
        self.roles = roles

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        session: Annotated[str | None, Depends(_cookie)],
    ) -> Actor:
        auth = auth_module()
        store = get_store(request)
        actor: Actor
        if bearer is None and "authorization" in request.headers:
            # A credential that is not a bearer token is refused, never ignored in favour of a cookie.
            raise ApiError(401, "token_invalid", "the Authorization header must be 'Bearer <token>'")
        if bearer is not None:
            if self.scope is None:
                raise ApiError(403, "session_required", "this needs a browser session, not an API token")
            # Database work off the event loop: a blocked loop stalls every other request.
            actor = await run_in_threadpool(auth.token_actor, store, bearer.credentials, self.scope)
        elif session:
            cache: SessionCache | None = getattr(request.app.state, "sessions", None)
            hit = cache.cached(session) if cache is not None else None
            actor = hit if hit is not None else await run_in_threadpool(session_actor, request, session)
            await check_csrf(request)
        else:
            raise ApiError(401, "not_authenticated", "log in, or send a bearer token")
        if self.roles and not actor.has(*self.roles):
            raise ApiError(
                403, "role_required", f"this needs one of the roles: {', '.join(self.roles)}", {"roles": self.roles}
            )
        request.state.actor = actor
        return actor


# One alias per kind of access, so handlers read like policy. Scopes are the policy's
# (fusionhub.policy.auth.SCOPES); a token only narrows what its user's roles allow.
AnyUser = Annotated[Actor, Depends(Authenticated(None))]  # own account: a session, never a token
SourceReader = Annotated[Actor, Depends(Authenticated("records:read"))]
RecordReaderActor = Annotated[Actor, Depends(Authenticated("records:read"))]
Importer = Annotated[Actor, Depends(Authenticated("records:write", ("analyst", "supervisor", "administrator")))]
ImportViewer = Annotated[
    Actor, Depends(Authenticated("records:read", ("analyst", "supervisor", "administrator", "privacy-officer")))
]
Administrator = Annotated[Actor, Depends(Authenticated("users:manage", ("administrator",)))]
Searcher = Annotated[Actor, Depends(Authenticated("search"))]
Auditor = Annotated[Actor, Depends(Authenticated("audit:read", ("auditor", "privacy-officer")))]
RetentionReviewer = Annotated[Actor, Depends(Authenticated("retention", ("privacy-officer", "supervisor")))]
RedressOfficer = Annotated[Actor, Depends(Authenticated("redress", ("privacy-officer",)))]


#: Threads per process that run searches and record views (the reads every analyst
#: makes all day). Python runs one thread at a time: with the default pool of 40, a
#: burst of reads each waited for the interpreter inside the store's write transaction
#: (its audit event) while holding it, and the others queued behind. Two keep one read
#: in the database while the other computes; everything else keeps the default pool.
READ_THREADS = 2


async def run_read(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``func`` on the process's reader threads (see :data:`READ_THREADS`)."""
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "read_threads", None)
    if limiter is None:
        limiter = request.app.state.read_threads = anyio.CapacityLimiter(READ_THREADS)
    return await anyio.to_thread.run_sync(partial(func, *args, **kwargs), limiter=limiter)
