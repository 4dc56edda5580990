"""``/users``: accounts, roles, account state, training dates and API tokens (administrators).

Every change is audited by the identity functions it calls, in the same transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from fusionhub.api.deps import Administrator, StoreDep, auth_module
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import MAX_LIMIT, Page, SmallId, decode_cursor, encode_cursor
from fusionhub.api.schemas import PasswordIn, Role, UserIn, UserOut
from fusionhub.policy.identity import (
    UserInfo,
    actor_for,
    add_user,
    disable_user,
    enable_user,
    list_users,
    reset_mfa,
    set_roles,
    set_training,
)
from fusionhub.policy.user_admin import AdministrationConflict, keeps_an_administrator
from fusionhub.store import Store

router = APIRouter(prefix="/users", tags=["administration"])


def user_out(u: UserInfo) -> UserOut:
    return UserOut(
        username=u.username,
        agency=u.agency,
        roles=u.roles,
        display_name=u.display_name,
        active=u.active,
        mfa_enrolled=u.mfa_enrolled,
        locked_until=u.locked_until,
        training_date=u.training_date,
        training_current=u.training_current,
    )


@router.get("", response_model=Page[UserOut], responses=responses(*AUTH_ERRORS, 400))
def users(
    _actor: Administrator,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[UserOut]:
    """Users by name; the cursor is the last name of the previous page."""
    after = decode_cursor(cursor)
    rows = [u for u in list_users(store) if after is None or u.username > str(after)]
    items = [user_out(u) for u in rows[:limit]]
    return Page[UserOut](items=items, next_cursor=encode_cursor(items[-1].username) if len(rows) > limit else None)


@router.post("", response_model=UserOut, status_code=201, responses=responses(*AUTH_ERRORS, 409))
def create_user(body: UserIn, actor: Administrator, store: StoreDep) -> UserOut:
    """Add a user; with ``password`` the account can log in (and enrols TOTP at first login)."""
    if any(u.username == body.username for u in list_users(store)):
        raise ApiError(409, "conflict", f"user {body.username} already exists")
    add_user(store, body.username, body.agency, list(body.roles), body.display_name, password=body.password, by=actor)
    return user_out(next(u for u in list_users(store) if u.username == body.username))


@router.put("/{username}/password", status_code=204, responses=responses(*AUTH_ERRORS, 404))
def set_password(username: str, body: PasswordIn, actor: Administrator, store: StoreDep) -> Response:
    """Set a user's password (administrators)."""
    actor_for(store, username)  # 404 for an unknown user
    auth_module().set_password(store, username, body.password, by=actor)
    return Response(status_code=204)


# -- account administration ---------------------------------------------------------
class RolesIn(BaseModel):
    roles: list[Role] = Field(min_length=1, max_length=7)


class TrainingIn(BaseModel):
    training_date: date = Field(description="Date of the user's last P/CRCL training (YYYY-MM-DD)")


class TokenOut(BaseModel):
    id: int
    user: str
    name: str | None
    scopes: list[str]
    created_at: str
    expires_at: str
    revoked: bool


def _one(store: Store, username: str) -> UserOut:
    for u in list_users(store):
        if u.username == username:
            return user_out(u)
    raise ApiError(404, "unknown_user", f"no user {username!r}")


def _guard(store: Store, username: str, *, roles: list[str] | None = None, disable: bool = False) -> None:
    try:
        keeps_an_administrator(store, username, roles=roles, disable=disable)
    except AdministrationConflict as exc:
        raise ApiError(409, "last_administrator", str(exc)) from exc


UserName = Annotated[str, Path(min_length=1, max_length=128)]


@router.post("/{username}/disable", response_model=UserOut, responses=responses(*AUTH_ERRORS, 404, 409))
def disable(username: UserName, actor: Administrator, store: StoreDep) -> UserOut:
    """Disable an account at once: its sessions end and its API tokens are revoked (audited)."""
    _one(store, username)
    _guard(store, username, disable=True)
    disable_user(store, username, by=actor)
    return _one(store, username)


@router.post("/{username}/enable", response_model=UserOut, responses=responses(*AUTH_ERRORS, 404))
def enable(username: UserName, actor: Administrator, store: StoreDep) -> UserOut:
    """Enable an account again and clear a login lockout (audited)."""
    _one(store, username)
    enable_user(store, username, by=actor)
    return _one(store, username)


@router.put("/{username}/roles", response_model=UserOut, responses=responses(*AUTH_ERRORS, 404, 409))
def put_roles(username: UserName, body: RolesIn, actor: Administrator, store: StoreDep) -> UserOut:
    """Replace a user's roles; audited as a ``permission.change`` with the old and new roles."""
    _one(store, username)
    _guard(store, username, roles=list(body.roles))
    set_roles(store, username, list(body.roles), by=actor)
    return _one(store, username)


@router.post("/{username}/reset-mfa", response_model=UserOut, responses=responses(*AUTH_ERRORS, 404))
def post_reset_mfa(username: UserName, actor: Administrator, store: StoreDep) -> UserOut:
    """Forget the user's second factor; they enrol a new one at their next login (audited)."""
    _one(store, username)
    reset_mfa(store, username, by=actor)
    return _one(store, username)


@router.put("/{username}/training", response_model=UserOut, responses=responses(*AUTH_ERRORS, 404))
def put_training(username: UserName, body: TrainingIn, actor: Administrator, store: StoreDep) -> UserOut:
    """Record the date of the user's P/CRCL training; records stay closed once it is
    more than the policy's ``training_valid_days`` old (audited)."""
    _one(store, username)
    if body.training_date > datetime.now(UTC).date():
        raise ApiError(422, "invalid_value", "the training date is in the future")
    when = datetime(body.training_date.year, body.training_date.month, body.training_date.day, tzinfo=UTC)
    set_training(store, username, when, by=actor)
    return _one(store, username)


@router.get("/{username}/tokens", response_model=list[TokenOut], responses=responses(*AUTH_ERRORS, 404))
def user_tokens(username: UserName, _actor: Administrator, store: StoreDep) -> list[TokenOut]:
    """The user's API tokens (never their secrets)."""
    _one(store, username)
    return [TokenOut(**row) for row in auth_module().list_api_tokens(store, username)]


@router.post("/{username}/tokens/{token_id}/revoke", response_model=TokenOut, responses=responses(*AUTH_ERRORS, 404))
def revoke_token(username: UserName, token_id: SmallId, actor: Administrator, store: StoreDep) -> TokenOut:
    """Revoke one of the user's API tokens at once (audited)."""
    _one(store, username)
    auth = auth_module()
    owned = {row["id"]: row for row in auth.list_api_tokens(store, username)}
    if token_id not in owned:
        raise ApiError(404, "not_found", f"user {username} has no API token {token_id}")
    auth.revoke_api_token(store, token_id, by=actor)
    return TokenOut(**{row["id"]: row for row in auth.list_api_tokens(store, username)}[token_id])
