"""The search's audit event: one call site (``record_search``) for every search run.

It goes into the policy layer's hash-chained audit (who, when, query, purpose, which
record ids came back), in the transaction that read the page of hits.
"""

from __future__ import annotations

from sqlalchemy import Connection

from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event


def record_search(
    conn: Connection, actor: Actor, purpose: str | None, query: str, total: int, record_ids: list[int]
) -> None:
    record_event(conn, actor, "search", None, {"query": query, "total": total, "record_ids": record_ids}, purpose)
