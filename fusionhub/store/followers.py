"""Derived indexes that follow the store's change sequence.

A follower (search index, resolution, watchlists) registers a callable; the store's
writers call :func:`notify_followers` after each commit. A follower reads the changes
above its own cursor (``index_cursor``), so a missed notification (crash, kill) only
delays it: the next notification, or its own catch-up at start, reads what it missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from fusionhub.store import tables as t
from fusionhub.store.store import Store

log = logging.getLogger(__name__)
Follower = Callable[[Store], None]
FOLLOWERS: dict[str, Follower] = {}


def register_follower(name: str, follower: Follower) -> None:
    FOLLOWERS[name] = follower


def notify_followers(store: Store) -> None:
    for name, follower in list(FOLLOWERS.items()):
        try:
            follower(store)
        except Exception:  # a failing index must not fail the import that fed it
            log.exception("follower %s failed; it will catch up on the next change", name)


def get_cursor(connection: Connection, name: str) -> int:
    value = connection.execute(select(t.index_cursor.c.seq).where(t.index_cursor.c.name == name)).scalar()
    return int(value or 0)


def set_cursor(connection: Connection, name: str, seq: int) -> None:
    now = datetime.now(UTC)
    updated = connection.execute(
        t.index_cursor.update().where(t.index_cursor.c.name == name).values(seq=seq, updated_at=now)
    ).rowcount
    if not updated:
        connection.execute(t.index_cursor.insert().values(name=name, seq=seq, updated_at=now))
