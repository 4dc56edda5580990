"""The search's audit event: one call site (``record_search``) for every search run.

When the policy layer's audit chain lands, this function writes to it instead; callers
do not change.
"""

from __future__ import annotations

from sqlalchemy import insert

from fusionhub.policy.actor import Actor
from fusionhub.store import Store, utcnow
from fusionhub.store.search_tables import search_event


def record_search(
    store: Store, actor: Actor, purpose: str | None, query: str, total: int, record_ids: list[int]
) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(search_event).values(
                at=utcnow(),
                user_id=actor.user_id,
                username=actor.username,
                purpose=purpose,
                query=query,
                total=total,
                record_ids=record_ids,
            )
        )
