"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Domain errors are mapped to HTTP statuses here and nowhere else, so a router never
builds an error body by hand and the OpenAPI document can list the same shape for
every error response.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("fusionhub.api")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | list[Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An error the API answers with, in the one shape."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: str, message: str, details: Any = None, headers: Any = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error responses an operation documents, all with the one shape."""
    described = {
        400: "The request is malformed.",
        401: "Not authenticated: log in or send a valid bearer token.",
        403: "Authenticated, but the policy or your roles refuse this.",
        404: "No such thing, or one you may not know exists.",
        409: "It already exists or conflicts with the current state.",
        413: "The request body is larger than allowed.",
        415: "The body has a media type this operation does not accept.",
        503: "A service the operation needs is busy or unavailable; try again.",
        422: "The request is well formed but its values are not valid.",
        423: "The account is locked after too many failed logins.",
    }
    return {s: {"model": ErrorBody, "description": described[s]} for s in statuses}


#: Statuses every operation behind authentication can answer with.
AUTH_ERRORS = (401, 403, 422)


def _domain_map() -> list[tuple[type[Exception], int, str]]:
    """(exception class, status, code), most specific first; imported lazily so a domain
    that has not landed yet does not stop the app from starting."""
    from fusionhub.ingest.errors import ProfileError, UnreadableFile
    from fusionhub.ingest.sources import RegistryError
    from fusionhub.model.types import InvalidValue
    from fusionhub.policy.audit import AuditError, AuditForbidden
    from fusionhub.policy.identity import NotAuthorized, UnknownUser
    from fusionhub.policy.reader import AccessDenied, NotFound, PurposeRequired
    from fusionhub.policy.rules import PolicyError
    from fusionhub.store import StoreError

    mapping: list[tuple[type[Exception], int, str]] = [
        (NotFound, 404, "not_found"),
        (PurposeRequired, 403, "purpose_required"),
        (AuditForbidden, 403, "access_denied"),
        (NotAuthorized, 403, "access_denied"),
        (AuditError, 422, "audit_error"),
        (PolicyError, 422, "policy_error"),
        (AccessDenied, 403, "access_denied"),
        (UnknownUser, 404, "unknown_user"),
        (UnreadableFile, 422, "unreadable_file"),
        (ProfileError, 422, "profile_error"),
        (InvalidValue, 422, "invalid_value"),
        (RegistryError, 409, "registry_error"),
        (StoreError, 503, "store_unavailable"),
    ]
    try:
        query = importlib.import_module("fusionhub.search.query")
        engine = importlib.import_module("fusionhub.search.engine")
        mapping.insert(0, (query.QuerySyntaxError, 422, "query_syntax"))
        mapping.insert(0, (engine.IndexBusy, 503, "index_busy"))
    except ImportError:  # search not in this build
        pass
    try:
        decisions = importlib.import_module("fusionhub.resolve.decisions")
        graph = importlib.import_module("fusionhub.graph.queries")
        mapping[:0] = [
            (decisions.DecisionForbidden, 403, "access_denied"),
            (decisions.UnknownReference, 404, "not_found"),
            (decisions.DecisionError, 422, "decision_error"),
            (graph.UnknownEntity, 404, "not_found"),
            (graph.GraphError, 422, "graph_error"),
        ]
    except ImportError:  # resolution or link analysis not in this build
        pass
    try:
        auth = importlib.import_module("fusionhub.policy.auth")
    except ImportError:
        return mapping
    auth_map: list[tuple[str, int, str]] = [
        ("AccountLocked", 423, "account_locked"),
        ("MfaRequired", 401, "mfa_required"),
        ("TrainingLapsed", 403, "training_lapsed"),
        ("SessionExpired", 401, "session_expired"),
        ("TokenInvalid", 401, "token_invalid"),
        ("LoginFailed", 401, "login_failed"),
        ("AuthError", 401, "not_authenticated"),
    ]
    for name, status, code in auth_map:
        cls = getattr(auth, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            mapping.insert(0 if name != "AuthError" else len(mapping), (cls, status, code))
    return mapping


def classify(exc: BaseException) -> tuple[int, str] | None:
    for cls, status, code in _domain_map():
        if isinstance(exc, cls):
            return status, code
    return None


HtmlRenderer = Callable[[Request, int, str, str], Awaitable[Response]]


def install(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """Register the handlers that give every error the one shape.

    ``html`` renders the same error as a page for requests outside ``/api/`` (the
    workspace), so a browser never sees a JSON body where it expected a page.
    """

    async def answer(
        request: Request, status: int, code: str, message: str, details: Any = None, headers: Any = None
    ) -> Response:
        if html is not None and not request.url.path.startswith("/api/"):
            return await html(request, status, code, message)
        return error_response(status, code, message, details, headers)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return await answer(request, exc.status, exc.code, exc.message, exc.details)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}.get(
            exc.status_code, f"http_{exc.status_code}"
        )
        return await answer(request, exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return await answer(request, 422, "invalid_request", "the request's values are not valid", details)

    async def domain_error(request: Request, exc: Exception) -> Response:
        found = classify(exc)
        if found is None:
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            return await answer(request, 500, "internal_error", "an internal error occurred; it has been logged")
        status, code = found
        return await answer(request, status, code, str(exc))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    # Each domain class gets its own handler: a handler for bare Exception would run in
    # the server-error layer, which answers and then re-raises.
    for cls, _status, _code in _domain_map():
        app.add_exception_handler(cls, domain_error)
    app.add_exception_handler(Exception, domain_error)
