"""Guards of user administration shared by the API and the workspace.

The account functions themselves (disable, set roles, reset MFA, training date, token
revocation) live in :mod:`fusionhub.policy.identity` and :mod:`fusionhub.policy.auth`
and audit every change; this module refuses the changes that would lock everyone out.
"""

from __future__ import annotations

from sqlalchemy import select

from fusionhub.store import Store
from fusionhub.store import tables as t


class AdministrationConflict(Exception):
    """The change would leave the store without an active administrator."""


def keeps_an_administrator(
    store: Store, username: str, *, roles: list[str] | None = None, disable: bool = False
) -> None:
    """Refuse to disable, or to take the administrator role from, the last active
    administrator: nobody could manage users afterwards, short of shell access."""
    u = t.app_user.c
    with store.connect() as conn:
        admins = [
            name
            for name, user_roles in conn.execute(select(u.username, u.roles).where(u.active.is_(True)))
            if "administrator" in (user_roles or [])
        ]
    if admins != [username]:
        return
    if disable or (roles is not None and "administrator" not in roles):
        raise AdministrationConflict(f"{username} is the last active administrator; add another administrator first")
