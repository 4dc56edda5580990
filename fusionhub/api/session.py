"""Browser session cookies: the session token from the policy, and its CSRF twin."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from fusionhub.api.deps import CSRF_COOKIE, SESSION_COOKIE, auth_module, get_store
from fusionhub.policy.actor import Actor

SESSION_MAX_AGE = 12 * 3600


def start_session(request: Request, response: Response, actor: Actor) -> str:
    """Open a session for ``actor``; set both cookies; return the CSRF token."""
    token = auth_module().create_session(get_store(request), actor)
    csrf = secrets.token_urlsafe(32)
    secure = bool(getattr(request.app.state, "secure_cookies", True))
    for name, value in ((SESSION_COOKIE, token), (CSRF_COOKIE, csrf)):
        response.set_cookie(
            name, value, max_age=SESSION_MAX_AGE, httponly=True, secure=secure, samesite="strict", path="/"
        )
    return csrf


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        cache = getattr(request.app.state, "sessions", None)
        if cache is not None:
            cache.forget(token)
        auth_module().end_session(get_store(request), token)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")
