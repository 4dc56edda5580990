"""Where records happened, for maps: the coordinates of readable records, nothing else.

Read through the compiled policy filter like every other record read; returns only
points, so a map never carries more than the list beside it already shows.
"""

from __future__ import annotations

from sqlalchemy import select

from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import record_filter
from fusionhub.store import Store
from fusionhub.store import tables as t


def record_points(store: Store, actor: Actor, record_ids: list[int]) -> dict[int, list[tuple[float, float]]]:
    """Record id -> its (lat, lon) points, for the ids the actor may read."""
    if not record_ids:
        return {}
    r, s = t.record.c, t.source.c
    query = (
        select(r.id, r.payload)
        .select_from(t.record.join(t.source, s.id == r.source_id))
        .where(r.id.in_(sorted(set(record_ids))), record_filter(actor))
    )
    points: dict[int, list[tuple[float, float]]] = {}
    with store.connect() as conn:
        for row in conn.execute(query):
            for entity in (row.payload or {}).get("entities", []):
                for value in (entity.get("properties") or {}).get("geo", []):
                    text = value[0] if isinstance(value, list) else value
                    try:
                        lat, lon = (float(x) for x in str(text).split(","))
                    except ValueError:
                        continue
                    points.setdefault(row.id, []).append((lat, lon))
    return points
