"""Users and their agencies, as far as reading needs them: resolving a name to an Actor."""

from __future__ import annotations

from sqlalchemy import insert, select

from fusionhub.ingest.sources import get_agency
from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import ROLES, Actor
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t


class UnknownUser(Exception):
    """No active user of that name."""


def add_user(store: Store, username: str, agency: str, roles: list[str], display_name: str | None = None) -> Actor:
    for role in roles:
        if role not in ROLES:
            raise InvalidValue(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    with store.begin() as conn:
        owner = get_agency(conn, agency)
        if conn.execute(select(t.app_user.c.id).where(t.app_user.c.username == username)).first():
            raise InvalidValue(f"user {username} already exists")
        conn.execute(
            insert(t.app_user).values(
                username=username,
                agency_id=owner.id,
                roles=sorted(set(roles)),
                display_name=display_name,
                active=True,
                failed_logins=0,
                created_at=utcnow(),
                training_date=utcnow(),
            )
        )
    return actor_for(store, username)


def actor_for(store: Store, username: str) -> Actor:
    with store.connect() as conn:
        row = conn.execute(
            select(t.app_user, t.agency.c.code, t.agency.c.kind)
            .join(t.agency, t.agency.c.id == t.app_user.c.agency_id)
            .where(t.app_user.c.username == username)
        ).first()
    if row is None or not row.active:
        raise UnknownUser(f"no active user {username!r}")
    return Actor(
        username=row.username,
        user_id=row.id,
        agency=row.code,
        agency_id=row.agency_id,
        agency_kind=row.kind,
        roles=frozenset(row.roles or []),
    )
