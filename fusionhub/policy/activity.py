"""A user's own recent activity, read back from the audit trail.

Only the asking user's own events are returned: the dashboard shows "your recent
searches", never anyone else's (reading others' activity is the auditor's, through
``fusionhub audit query``, and is itself audited).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from fusionhub.policy.actor import Actor
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt


@dataclass(frozen=True)
class RecentSearch:
    query: str
    purpose: str | None
    when: str
    hits: int

    @property
    def rerun(self) -> str:
        """The search page's address that runs the same query with the same purpose."""
        params = {"q": self.query, **({"purpose": self.purpose} if self.purpose else {})}
        return "/search?" + urlencode(params)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "rerun": self.rerun}


def recent_searches(store: Store, actor: Actor, limit: int = 10) -> list[RecentSearch]:
    """The actor's own newest searches, one line per distinct query and purpose.

    Reads at most a few pages of the actor's own ``search`` events through the
    (username, ts) index; paging through results writes one event per page, so
    repeated runs of the same query collapse to the newest.
    """
    e = pt.audit_event.c
    with store.connect() as conn:
        rows = conn.execute(
            select(e.ts, e.purpose, e.details)
            .where(e.username == actor.username, e.action == "search")
            .order_by(e.ts.desc(), e.id.desc())
            .limit(limit * 5)
        ).all()
    seen: set[tuple[str, str | None]] = set()
    found: list[RecentSearch] = []
    for row in rows:
        try:
            details = json.loads(row.details)
        except ValueError:
            continue
        query = str(details.get("query") or "")
        key = (query, row.purpose)
        if not query or key in seen:
            continue
        seen.add(key)
        found.append(RecentSearch(query, row.purpose, str(row.ts), int(details.get("total") or 0)))
        if len(found) == limit:
            break
    return found
