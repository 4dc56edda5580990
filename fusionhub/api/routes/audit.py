"""``/audit``: who did what, who looked at a record, and whether the chain is intact
(auditors and privacy officers; every query is itself audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from fusionhub.api.deps import Auditor, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import INT64_MAX, MAX_LIMIT, Page, decode_int_cursor, encode_cursor
from fusionhub.api.schemas import AuditEventOut, ChainStatus
from fusionhub.policy import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events", response_model=Page[AuditEventOut], responses=responses(*AUTH_ERRORS, 400))
def events(
    actor: Auditor,
    store: StoreDep,
    user: Annotated[str | None, Query(max_length=128)] = None,
    subject: Annotated[str | None, Query(max_length=255, description="e.g. record:42 or user:ana")] = None,
    record_id: Annotated[
        int | None, Query(ge=1, le=INT64_MAX, description="Every event that touched this record.")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="An action; * is a wildcard.")] = None,
    text: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[AuditEventOut]:
    """Events in order, filtered by user, subject, record and time."""
    offset = decode_int_cursor(cursor) or 0
    found = audit.query(
        store,
        actor,
        user=user,
        record_id=record_id,
        subject=subject,
        action=action,
        text=text,
        since=since,
        until=until,
        limit=offset + limit + 1,
    )
    page = found[offset : offset + limit]
    return Page[AuditEventOut](
        items=[AuditEventOut(**e.to_json()) for e in page],
        next_cursor=encode_cursor(offset + limit) if len(found) > offset + limit else None,
    )


@router.get("/verify", response_model=ChainStatus, responses=responses(*AUTH_ERRORS))
def verify(_actor: Auditor, store: StoreDep) -> ChainStatus:
    """Check the whole hash chain against its out-of-database checkpoint."""
    return ChainStatus(**audit.verify(store).to_json())
