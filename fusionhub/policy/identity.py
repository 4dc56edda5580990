"""Users and their agencies: creating, listing, disabling, roles, training; resolving a
name to an :class:`Actor`. Every change is audited as the user (or operator) who made it.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from fusionhub.ingest.sources import get_agency
from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t


class UnknownUser(Exception):
    """No active user of that name."""


class NotAuthorized(Exception):
    """The acting user may not manage users (the message is safe to show)."""


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def operator_name() -> str:
    """Who acts when the CLI bootstraps a store with no administrator yet."""
    try:
        login = getpass.getuser()
    except Exception:
        login = "unknown"
    return f"operator:{login}"


def training_current(training_date: datetime | None, now: datetime | None = None) -> bool:
    if training_date is None:
        return False
    days = int(load_policy().setting("training_valid_days"))
    return (now or utcnow()) - (aware(training_date) or training_date) <= timedelta(days=days)


def check_roles(roles: list[str]) -> list[str]:
    if not roles:
        raise InvalidValue(f"a user needs at least one role; one of {', '.join(ROLES)}")
    for role in roles:
        if role not in ROLES:
            raise InvalidValue(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    return sorted(set(roles))


def has_administrator(store: Store) -> bool:
    with store.connect() as conn:
        for roles in conn.execute(select(t.app_user.c.roles).where(t.app_user.c.active.is_(True))).scalars():
            if "administrator" in (roles or []):
                return True
    return False


def require_administrator(actor: Actor | None) -> None:
    if actor is not None and not actor.has("administrator"):
        raise NotAuthorized(f"{actor.username} is not an administrator; only administrators manage users")


def _by(actor: Actor | str | None) -> str:
    if actor is None:
        return operator_name()
    return actor if isinstance(actor, str) else actor.username


def add_user(
    store: Store,
    username: str,
    agency: str,
    roles: list[str],
    display_name: str | None = None,
    *,
    password: str | None = None,
    training_date: datetime | None = None,
    by: Actor | str | None = None,
    now: datetime | None = None,
) -> Actor:
    """Create a user. ``password`` is hashed with argon2id; ``training_date`` defaults to now."""
    from fusionhub.policy.auth import hash_password

    roles = check_roles(roles)
    username = username.strip()
    if not username or ":" in username:
        raise InvalidValue("a username is non-empty and has no ':'")
    now = now or utcnow()
    with store.begin() as conn:
        owner = get_agency(conn, agency)
        if conn.execute(select(t.app_user.c.id).where(t.app_user.c.username == username)).first():
            raise InvalidValue(f"user {username} already exists")
        conn.execute(
            insert(t.app_user).values(
                username=username,
                agency_id=owner.id,
                roles=roles,
                display_name=display_name,
                active=True,
                failed_logins=0,
                created_at=now,
                training_date=training_date or now,
                password_hash=hash_password(password) if password else None,
            )
        )
        record_event(
            conn,
            _by(by),
            "user.add",
            f"user:{username}",
            {"agency": agency, "roles": roles, "password_set": bool(password)},
            now=now,
        )
    return actor_for(store, username, now=now)


def _actor_from_row(row: Any, now: datetime | None) -> Actor:
    trained = aware(row.training_date)
    return Actor(
        username=row.username,
        user_id=row.id,
        agency=row.code,
        agency_id=row.agency_id,
        agency_kind=row.kind,
        roles=frozenset(row.roles or []),
        training_date=trained,
        training_current=training_current(trained, now),
    )


def actor_row(conn: Connection, username: str) -> Any:
    return conn.execute(
        select(t.app_user, t.agency.c.code, t.agency.c.kind)
        .join(t.agency, t.agency.c.id == t.app_user.c.agency_id)
        .where(t.app_user.c.username == username)
    ).first()


def actor_for(store: Store, username: str, *, now: datetime | None = None) -> Actor:
    with store.connect() as conn:
        row = actor_row(conn, username)
    if row is None or not row.active:
        raise UnknownUser(f"no active user {username!r}")
    return _actor_from_row(row, now)


@dataclass(frozen=True)
class UserInfo:
    username: str
    agency: str
    roles: list[str]
    active: bool
    display_name: str | None
    training_date: str | None
    training_current: bool
    mfa_enrolled: bool
    locked_until: str | None
    failed_logins: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_users(store: Store, *, now: datetime | None = None) -> list[UserInfo]:
    with store.connect() as conn:
        rows = conn.execute(
            select(t.app_user, t.agency.c.code)
            .join(t.agency, t.agency.c.id == t.app_user.c.agency_id)
            .order_by(t.app_user.c.username)
        ).all()
    return [
        UserInfo(
            username=r.username,
            agency=r.code,
            roles=list(r.roles or []),
            active=bool(r.active),
            display_name=r.display_name,
            training_date=(aware(r.training_date) or now or utcnow()).date().isoformat() if r.training_date else None,
            training_current=training_current(aware(r.training_date), now),
            mfa_enrolled=bool(r.totp_secret),
            locked_until=aware(r.locked_until).isoformat() if r.locked_until else None,  # type: ignore[union-attr]
            failed_logins=int(r.failed_logins or 0),
        )
        for r in rows
    ]


def _user_id(conn: Connection, username: str) -> int:
    found = conn.execute(select(t.app_user.c.id).where(t.app_user.c.username == username)).scalar()
    if found is None:
        raise UnknownUser(f"no user {username!r}")
    return int(found)


def disable_user(store: Store, username: str, *, by: Actor | str | None = None, now: datetime | None = None) -> None:
    """Disable at once: every session and API token of the user stops working (28 CFR 23.20(g)(5))."""
    now = now or utcnow()
    with store.begin() as conn:
        user_id = _user_id(conn, username)
        conn.execute(update(t.app_user).where(t.app_user.c.id == user_id).values(active=False))
        conn.execute(
            update(pt.user_session)
            .where(pt.user_session.c.user_id == user_id, pt.user_session.c.ended_at.is_(None))
            .values(ended_at=now, end_reason="user disabled")
        )
        conn.execute(
            update(pt.api_token)
            .where(pt.api_token.c.user_id == user_id, pt.api_token.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        record_event(conn, _by(by), "user.disable", f"user:{username}", {}, now=now)


def enable_user(store: Store, username: str, *, by: Actor | str | None = None, now: datetime | None = None) -> None:
    with store.begin() as conn:
        user_id = _user_id(conn, username)
        conn.execute(
            update(t.app_user).where(t.app_user.c.id == user_id).values(active=True, failed_logins=0, locked_until=None)
        )
        record_event(conn, _by(by), "user.enable", f"user:{username}", {}, now=now)


def set_roles(
    store: Store, username: str, roles: list[str], *, by: Actor | str | None = None, now: datetime | None = None
) -> None:
    roles = check_roles(roles)
    with store.begin() as conn:
        user_id = _user_id(conn, username)
        old = conn.execute(select(t.app_user.c.roles).where(t.app_user.c.id == user_id)).scalar()
        conn.execute(update(t.app_user).where(t.app_user.c.id == user_id).values(roles=roles))
        record_event(conn, _by(by), "permission.change", f"user:{username}", {"from": old or [], "to": roles}, now=now)


def set_training(
    store: Store, username: str, when: datetime, *, by: Actor | str | None = None, now: datetime | None = None
) -> None:
    with store.begin() as conn:
        user_id = _user_id(conn, username)
        conn.execute(update(t.app_user).where(t.app_user.c.id == user_id).values(training_date=when))
        record_event(
            conn, _by(by), "user.training", f"user:{username}", {"training_date": when.date().isoformat()}, now=now
        )


def reset_mfa(store: Store, username: str, *, by: Actor | str | None = None, now: datetime | None = None) -> None:
    """Forget the user's TOTP secret: the next login asks them to enrol again."""
    with store.begin() as conn:
        user_id = _user_id(conn, username)
        conn.execute(update(t.app_user).where(t.app_user.c.id == user_id).values(totp_secret=None))
        conn.execute(delete(pt.user_security).where(pt.user_security.c.user_id == user_id))
        record_event(conn, _by(by), "user.reset-mfa", f"user:{username}", {}, now=now)


def count_users(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.app_user)).scalar_one())
