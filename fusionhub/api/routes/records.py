"""``/records``: records with provenance and version history, read only through the policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from fusionhub.api.deps import RecordReaderActor, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import MAX_LIMIT, Page, decode_int_cursor, encode_cursor
from fusionhub.api.schemas import RecordOut, RecordSummary
from fusionhub.policy.listing import record_summaries
from fusionhub.policy.reader import RecordReader

router = APIRouter(prefix="/records", tags=["records"])

Purpose = Annotated[
    str | None,
    Query(max_length=500, description="Why you look: a case number or a configured reason (audited)."),
]
PurposeHeader = Annotated[str | None, Header(alias="X-Purpose", max_length=500)]


def reader(store: Any, actor: Any, purpose: str | None, header: str | None) -> RecordReader:
    return RecordReader(store, actor, purpose or header)


@router.get("", response_model=Page[RecordSummary], responses=responses(*AUTH_ERRORS, 400))
def list_records(
    actor: RecordReaderActor,
    store: StoreDep,
    source: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[RecordSummary]:
    """Records you may see, newest first (metadata only; open one for its content)."""
    rows = record_summaries(store, actor, decode_int_cursor(cursor), limit + 1, source)
    items = [RecordSummary(**r) for r in rows[:limit]]
    return Page[RecordSummary](
        items=items, next_cursor=encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None
    )


@router.get("/{record_id}", response_model=RecordOut, responses=responses(*AUTH_ERRORS, 404))
def get_record(
    record_id: int, actor: RecordReaderActor, store: StoreDep, purpose: Purpose = None, x_purpose: PurposeHeader = None
) -> dict[str, Any]:
    """One record: every value with its source and grading, and every earlier version."""
    return reader(store, actor, purpose, x_purpose).get(record_id).to_json()
