"""Reading the import history: batches, their quarantined rows, and each source's freshness.

Batches and quarantine hold metadata and raw rows of one agency's sources; who may read
them is decided by the caller's ``agency_id`` filter (None: every agency).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from fusionhub.store import Store
from fusionhub.store import tables as t


@dataclass(frozen=True)
class Batch:
    id: int
    source: str
    agency_id: int
    file_name: str
    file_sha256: str | None
    profile: str
    started_at: str
    finished_at: str | None
    status: str
    rows_read: int
    rows_stored: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    message: str | None
    user: str | None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("agency_id")
        return body


@dataclass(frozen=True)
class QuarantinedRow:
    id: int
    row: int
    reason: str
    raw: str | None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _batch_query() -> Select[Any]:
    b, s = t.ingest_batch.c, t.source.c
    return select(t.ingest_batch, s.name.label("source_name"), s.agency_id).join(t.source, s.id == b.source_id)


def _batch(row: Any) -> Batch:
    return Batch(
        id=row.id,
        source=row.source_name,
        agency_id=row.agency_id,
        file_name=row.file_name,
        file_sha256=row.file_sha256,
        profile=row.profile,
        started_at=row.started_at.isoformat(),
        finished_at=_iso(row.finished_at),
        status=row.status,
        rows_read=row.rows_read,
        rows_stored=row.rows_stored,
        rows_updated=row.rows_updated,
        rows_unchanged=row.rows_unchanged,
        rows_rejected=row.rows_rejected,
        message=row.message,
        user=row.user_name,
    )


def list_batches(
    store: Store, agency_id: int | None, before: int | None = None, limit: int = 50, source: str | None = None
) -> list[Batch]:
    """Newest first; ``before`` is the id of the last batch of the previous page."""
    query = _batch_query().order_by(t.ingest_batch.c.id.desc()).limit(limit)
    if agency_id is not None:
        query = query.where(t.source.c.agency_id == agency_id)
    if before is not None:
        query = query.where(t.ingest_batch.c.id < before)
    if source:
        query = query.where(t.source.c.name == source)
    with store.connect() as conn:
        return [_batch(r) for r in conn.execute(query)]


def get_batch(store: Store, batch_id: int) -> Batch | None:
    with store.connect() as conn:
        row = conn.execute(_batch_query().where(t.ingest_batch.c.id == batch_id)).first()
    return _batch(row) if row is not None else None


def quarantined_rows(store: Store, batch_id: int, after: int | None = None, limit: int = 100) -> list[QuarantinedRow]:
    q = t.quarantine.c
    query = select(t.quarantine).where(q.batch_id == batch_id).order_by(q.id).limit(limit)
    if after is not None:
        query = query.where(q.id > after)
    with store.connect() as conn:
        return [QuarantinedRow(r.id, r.row_number, r.reason, r.raw) for r in conn.execute(query)]


def freshness(store: Store) -> dict[str, tuple[str | None, str | None]]:
    """Source name -> (when its newest import finished, that import's status)."""
    b, s = t.ingest_batch.c, t.source.c
    newest = select(b.source_id, func.max(b.id).label("batch_id")).group_by(b.source_id).subquery()
    query = (
        select(s.name, b.finished_at, b.started_at, b.status)
        .join(newest, newest.c.source_id == s.id)
        .join(t.ingest_batch, b.id == newest.c.batch_id)
    )
    with store.connect() as conn:
        return {r.name: (_iso(r.finished_at or r.started_at), r.status) for r in conn.execute(query)}
