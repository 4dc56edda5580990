"""``/users``: accounts, roles and account state (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from fusionhub.api.deps import Administrator, StoreDep, auth_module
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor
from fusionhub.api.schemas import PasswordIn, UserIn, UserOut
from fusionhub.policy.identity import UserInfo, actor_for, add_user, list_users

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
