"""The list of users for administration: who exists, their roles, and their account state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from fusionhub.store import Store
from fusionhub.store import tables as t


@dataclass(frozen=True)
class UserEntry:
    id: int
    username: str
    agency: str
    roles: list[str]
    display_name: str | None
    active: bool
    mfa_enrolled: bool
    locked_until: str | None
    training_date: str | None


def list_users(store: Store, after: int | None = None, limit: int = 100) -> list[UserEntry]:
    u, a = t.app_user.c, t.agency.c
    query = (
        select(t.app_user, a.code.label("agency_code")).join(t.agency, a.id == u.agency_id).order_by(u.id).limit(limit)
    )
    if after is not None:
        query = query.where(u.id > after)
    with store.connect() as conn:
        return [
            UserEntry(
                id=r.id,
                username=r.username,
                agency=r.agency_code,
                roles=list(r.roles or []),
                display_name=r.display_name,
                active=bool(r.active),
                mfa_enrolled=bool(r.totp_secret),
                locked_until=r.locked_until.isoformat() if r.locked_until else None,
                training_date=r.training_date.isoformat() if r.training_date else None,
            )
            for r in conn.execute(query)
        ]


def has_totp(store: Store, username: str) -> bool:
    with store.connect() as conn:
        secret = conn.execute(select(t.app_user.c.totp_secret).where(t.app_user.c.username == username)).scalar()
    return bool(secret)
