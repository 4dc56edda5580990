"""Account actions on ``/admin``: disable, enable, roles, second factor, training date,
API tokens. Each is a CSRF-protected form; the destructive ones need a ticked
confirmation; every change is audited by the identity function it calls."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import auth_module, get_store
from fusionhub.api.errors import ApiError
from fusionhub.api.pagination import INT32_MAX
from fusionhub.policy.identity import disable_user, enable_user, list_users, reset_mfa, set_roles, set_training
from fusionhub.policy.user_admin import AdministrationConflict, keeps_an_administrator
from fusionhub.store import Store
from fusionhub.web.pages import PageActor, require

router = APIRouter(include_in_schema=False)
UserName = Annotated[str, Path(min_length=1, max_length=128)]
Confirmed = Annotated[str, Form(max_length=8)]


def _known(store: Store, username: str) -> None:
    if username not in {u.username for u in list_users(store)}:
        raise ApiError(404, "unknown_user", f"no user {username!r}")


def _confirmed(value: str, what: str) -> None:
    if value != "yes":
        raise ApiError(422, "confirmation_required", f"tick the box to confirm that you {what}")


def _guard(store: Store, username: str, *, roles: list[str] | None = None, disable: bool = False) -> None:
    try:
        keeps_an_administrator(store, username, roles=roles, disable=disable)
    except AdministrationConflict as exc:
        raise ApiError(409, "last_administrator", str(exc)) from exc


def _back(username: str, message: str) -> Response:
    return RedirectResponse(f"/admin?user={quote(username)}&message={quote(message)}#manage", status_code=303)


@router.post("/admin/users/{username}/disable")
def web_disable(request: Request, actor: PageActor, username: UserName, confirm: Confirmed = "") -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    _confirmed(confirm, f"disable {username}")
    _guard(store, username, disable=True)
    disable_user(store, username, by=actor)
    return _back(username, f"user {username} disabled; their sessions ended and their API tokens were revoked")


@router.post("/admin/users/{username}/enable")
def web_enable(request: Request, actor: PageActor, username: UserName) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    enable_user(store, username, by=actor)
    return _back(username, f"user {username} enabled")


@router.post("/admin/users/{username}/roles")
def web_roles(
    request: Request,
    actor: PageActor,
    username: UserName,
    roles: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    if not roles:
        raise ApiError(422, "invalid_value", "choose at least one role")
    _guard(store, username, roles=roles)
    set_roles(store, username, roles, by=actor)
    return _back(username, f"user {username} now holds: {', '.join(sorted(set(roles)))}")


@router.post("/admin/users/{username}/reset-mfa")
def web_reset_mfa(request: Request, actor: PageActor, username: UserName, confirm: Confirmed = "") -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    _confirmed(confirm, f"reset the second factor of {username}")
    reset_mfa(store, username, by=actor)
    return _back(username, f"second factor of {username} reset; they enrol a new one at their next login")


@router.post("/admin/users/{username}/training")
def web_training(
    request: Request, actor: PageActor, username: UserName, training_date: Annotated[date, Form()]
) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    if training_date > datetime.now(UTC).date():
        raise ApiError(422, "invalid_value", "the training date is in the future")
    when = datetime(training_date.year, training_date.month, training_date.day, tzinfo=UTC)
    set_training(store, username, when, by=actor)
    return _back(username, f"user {username}: P/CRCL training recorded on {training_date.isoformat()}")


@router.post("/admin/users/{username}/tokens/{token_id}/revoke")
def web_revoke(
    request: Request,
    actor: PageActor,
    username: UserName,
    token_id: Annotated[int, Path(ge=1, le=INT32_MAX)],
    confirm: Confirmed = "",
) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    _known(store, username)
    auth = auth_module()
    if token_id not in {row["id"] for row in auth.list_api_tokens(store, username)}:
        raise ApiError(404, "not_found", f"user {username} has no API token {token_id}")
    _confirmed(confirm, f"revoke token {token_id}")
    auth.revoke_api_token(store, token_id, by=actor)
    return _back(username, f"API token {token_id} of {username} revoked")
