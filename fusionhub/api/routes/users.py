"""``/users``: accounts, roles and account state (administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from fusionhub.api.deps import Administrator, StoreDep, auth_module
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import MAX_LIMIT, Page, decode_int_cursor, encode_cursor
from fusionhub.api.schemas import PasswordIn, UserIn, UserOut
from fusionhub.policy.identity import actor_for, add_user
from fusionhub.policy.roster import list_users

router = APIRouter(prefix="/users", tags=["administration"])


@router.get("", response_model=Page[UserOut], responses=responses(*AUTH_ERRORS, 400))
def users(
    _actor: Administrator,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[UserOut]:
    rows = list_users(store, decode_int_cursor(cursor), limit + 1)
    items = [UserOut(**{k: v for k, v in vars(u).items() if k != "id"}) for u in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page[UserOut](items=items, next_cursor=nxt)


@router.post("", response_model=UserOut, status_code=201, responses=responses(*AUTH_ERRORS, 409))
def create_user(body: UserIn, _actor: Administrator, store: StoreDep) -> UserOut:
    """Add a user; with ``password`` the account can log in (and enrols TOTP at first login)."""
    add_user(store, body.username, body.agency, body.roles, body.display_name)
    if body.password:
        auth_module().set_password(store, body.username, body.password)
    actor = actor_for(store, body.username)
    return UserOut(
        username=actor.username,
        agency=actor.agency,
        roles=sorted(actor.roles),
        display_name=body.display_name,
        active=True,
        mfa_enrolled=False,
        locked_until=None,
        training_date=None,
    )


@router.put("/{username}/password", status_code=204, responses=responses(*AUTH_ERRORS, 404))
def set_password(username: str, body: PasswordIn, _actor: Administrator, store: StoreDep) -> Response:
    """Set a user's password (administrators)."""
    actor_for(store, username)  # 404 for an unknown user
    auth_module().set_password(store, username, body.password)
    return Response(status_code=204)
