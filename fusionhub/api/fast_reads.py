"""The two reads analysts make all day, a search and a record view, in the common case
without FastAPI's per-request dependency solving.

FastAPI works out a route's dependencies and validates each parameter on every request
(~0.1-0.2 ms of CPU for these two routes, more than the rest of the framework together);
under many users that is a tenth of a request's cost. The documented routes
(``routes/search.py``, ``routes/records.py``) stay in charge: their handler is wrapped,
and the wrapper answers only a ``GET`` from a browser session this process has checked
within the last seconds (``deps.SessionCache``) whose query holds exactly the
parameters the route declares, each once and already valid for it. Anything else (a
bearer token, no or an unchecked session, an unknown, repeated or invalid parameter)
goes to the route's own handler, which answers as it always did, errors included. Both
paths do the work through the same function, inside the same middleware and exception
handlers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from fusionhub.api.deps import SESSION_COOKIE, SessionCache
from fusionhub.api.pagination import INT64_MAX
from fusionhub.policy.actor import Actor

#: What the routes declare (``Query``/``Header``/``Path`` constraints), checked here.
PURPOSE_MAX = 500
_DIGITS = re.compile(r"[1-9][0-9]{0,18}")

#: (request, actor, parameters) -> the response; None: leave the request to the route.
Answer = Callable[[Request, Actor, dict[str, str], str | None], Awaitable[Any] | None]


class FastRead:
    """Wraps the ASGI handler of one ``APIRoute``; see the module's docstring."""

    def __init__(self, route: APIRoute, allowed: frozenset[str], answer: Answer) -> None:
        self.route_app: ASGIApp = route.app
        self.allowed = allowed
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        actor = self._session_actor(request) if scope["method"] == "GET" else None
        params = self._params(request) if actor is not None else None
        purpose_header = _purpose_header(request) if params is not None else (None, False)
        work = None
        if actor is not None and params is not None and purpose_header[1]:
            work = self.answer(request, actor, params, purpose_header[0])
        if work is None:
            await self.route_app(scope, receive, send)
            return
        request.state.actor = actor
        response = await work
        await response(scope, receive, send)

    @staticmethod
    def _session_actor(request: Request) -> Actor | None:
        if "authorization" in request.headers:
            return None
        token = request.cookies.get(SESSION_COOKIE)
        cache: SessionCache | None = getattr(request.app.state, "sessions", None)
        return cache.cached(token) if token and cache is not None else None

    def _params(self, request: Request) -> dict[str, str] | None:
        items = request.query_params.multi_items()
        params = dict(items)
        if len(params) != len(items) or not params.keys() <= self.allowed:
            return None
        return params


def _purpose_header(request: Request) -> tuple[str | None, bool]:
    """(the ``X-Purpose`` header, whether it is valid for the routes)."""
    values = request.headers.getlist("x-purpose")
    if not values:
        return None, True
    if len(values) > 1 or len(values[0]) > PURPOSE_MAX:
        return None, False
    return values[0], True


def _purpose(params: dict[str, str]) -> tuple[str | None, bool]:
    purpose = params.get("purpose")
    return purpose, purpose is None or len(purpose) <= PURPOSE_MAX


def _search(request: Request, actor: Actor, params: dict[str, str], header: str | None) -> Awaitable[Any] | None:
    from fusionhub.api.routes.search import search_response
    from fusionhub.search.engine import SORTS
    from fusionhub.search.service import MAX_LIMIT

    q = params.get("q")
    sort = params.get("sort", "relevance")
    limit_text = params.get("limit", "20")
    cursor = params.get("cursor")
    purpose, purpose_ok = _purpose(params)
    if (
        q is None
        or not 1 <= len(q) <= 2000
        or sort not in SORTS
        or not _DIGITS.fullmatch(limit_text)
        or not 1 <= int(limit_text) <= MAX_LIMIT
        or (cursor is not None and len(cursor) > 200)
        or not purpose_ok
    ):
        return None
    store = request.app.state.store
    return search_response(request, actor, store, q, sort, int(limit_text), cursor, purpose or header)


def _record(request: Request, actor: Actor, params: dict[str, str], header: str | None) -> Awaitable[Any] | None:
    from fusionhub.api.routes.records import record_response

    record_id = str(request.scope.get("path_params", {}).get("record_id", ""))
    purpose, purpose_ok = _purpose(params)
    if not _DIGITS.fullmatch(record_id) or int(record_id) > INT64_MAX or not purpose_ok:
        return None
    return record_response(request, actor, request.app.state.store, int(record_id), purpose or header)


#: The wrapped routes: (method, path) -> (the query parameters they declare, the answer).
FAST_READS: dict[tuple[str, str], tuple[frozenset[str], Answer]] = {
    ("GET", "/api/v1/search"): (frozenset({"q", "sort", "limit", "cursor", "purpose"}), _search),
    ("GET", "/api/v1/records/{record_id}"): (frozenset({"purpose"}), _record),
}


def install(routes: list[Any]) -> None:
    """Wrap the handlers of the routes in :data:`FAST_READS` that this build has, and
    try them first (the router otherwise tests ~40 routes before them), unless one
    would then shadow a later route of the same method."""
    wrapped = []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            found = FAST_READS.get((method, route.path))
            if found is not None:
                route.app = FastRead(route, *found)
                wrapped.append(route)
    for route in wrapped:
        if not any(_shadows(route, other) for other in routes if other is not route):
            routes.remove(route)
            routes.insert(0, route)


def _shadows(route: APIRoute, other: Any) -> bool:
    """Whether ``route`` would take requests meant for ``other`` if tried before it."""
    methods = getattr(other, "methods", None) or set()
    if not methods & route.methods:
        return False
    sample = re.sub(r"{[^}]*}", "x", str(getattr(other, "path", "")))
    return route.path_regex.match(sample) is not None
