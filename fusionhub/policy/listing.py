"""Listing records (metadata only) under the compiled policy filter.

Used for "newest records" pages; content is read one record at a time through
``RecordReader.get`` so that each view is judged and audited on its own.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import record_filter
from fusionhub.store import Store
from fusionhub.store import tables as t


def record_summaries(
    store: Store, actor: Actor, before: int | None = None, limit: int = 50, source: str | None = None
) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the id of the last record of the previous page."""
    r, s = t.record.c, t.source.c
    query = (
        select(r.id, s.name, r.source_record_id, r.record_class, r.tlp, r.handling, r.occurred_at, r.version, r.status)
        .select_from(t.record.join(t.source, s.id == r.source_id))
        .where(record_filter(actor))
        .order_by(r.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(r.id < before)
    if source:
        query = query.where(s.name == source)
    with store.connect() as conn:
        return [
            {
                "id": row.id,
                "source": row.name,
                "source_record_id": row.source_record_id,
                "record_class": row.record_class,
                "caveat": " ".join([f"TLP:{row.tlp}", *filter(None, row.handling.split(","))]),
                "occurred_at": row.occurred_at,
                "version": row.version,
                "status": row.status,
            }
            for row in conn.execute(query)
        ]
