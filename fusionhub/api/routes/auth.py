"""``/auth``: log in and out, who am I, API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from fusionhub.api.deps import CSRF_COOKIE, Administrator, AnyUser, StoreDep, auth_module
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import SmallId
from fusionhub.api.schemas import Login, Me, TokenCreated, TokenRequest
from fusionhub.api.session import end_session, start_session

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=Me, responses=responses(401, 403, 422, 423))
def login(body: Login, request: Request, response: Response, store: StoreDep) -> Me:
    """Log in with password and TOTP code; sets the session and CSRF cookies."""
    client = request.client.host if request.client else None
    actor = auth_module().login(store, body.username, body.password, body.totp_code or None, ip=client)
    csrf = start_session(request, response, actor)
    return Me(username=actor.username, agency=actor.agency, roles=sorted(actor.roles), csrf_token=csrf)


@router.post("/logout", status_code=204, responses=responses(*AUTH_ERRORS))
def logout(_actor: AnyUser, request: Request, response: Response) -> Response:
    """End the session of the cookie that came with the request."""
    out = Response(status_code=204)
    end_session(request, out)
    return out


@router.get("/me", response_model=Me, responses=responses(*AUTH_ERRORS))
def me(actor: AnyUser, request: Request) -> Me:
    """The user behind this request."""
    return Me(
        username=actor.username,
        agency=actor.agency,
        roles=sorted(actor.roles),
        csrf_token=request.cookies.get(CSRF_COOKIE),
    )


@router.post("/tokens", response_model=TokenCreated, status_code=201, responses=responses(*AUTH_ERRORS))
def create_token(body: TokenRequest, actor: AnyUser, store: StoreDep) -> TokenCreated:
    """Issue a bearer token for the caller, limited to ``scopes``; it can only narrow the caller's roles."""
    auth = auth_module()
    try:
        token = auth.create_api_token(store, actor.username, body.scopes, timedelta(seconds=body.expires_in), by=actor)
    except auth.TokenInvalid as exc:  # an unknown scope or lifetime: the request's values, not its credentials
        raise ApiError(422, "invalid_value", str(exc), {"scopes": list(auth.SCOPES)}) from exc
    return TokenCreated(token=token, scopes=body.scopes, expires_in=body.expires_in)


@router.delete("/tokens/{token_id}", status_code=204, responses=responses(*AUTH_ERRORS, 404))
def revoke_token(token_id: SmallId, actor: Administrator, store: StoreDep) -> Response:
    """Revoke an API token (administrators)."""
    auth_module().revoke_api_token(store, token_id, by=actor)
    return Response(status_code=204)
