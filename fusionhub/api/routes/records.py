"""``/records``: records with provenance and version history, read only through the policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from fusionhub.api.deps import RecordReaderActor, StoreDep, run_read
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import MAX_LIMIT, BigId, Page, decode_int_cursor, encode_cursor
from fusionhub.api.responses import json_response
from fusionhub.api.schemas import RecordOut, RecordSummary
from fusionhub.policy.reader import RecordReader, RecordView

router = APIRouter(prefix="/records", tags=["records"])

Purpose = Annotated[
    str | None,
    Query(max_length=500, description="Why you look: a case number or a configured reason (audited)."),
]
PurposeHeader = Annotated[str | None, Header(alias="X-Purpose", max_length=500)]


def reader(store: Any, actor: Any, purpose: str | None, header: str | None) -> RecordReader:
    return RecordReader(store, actor, purpose or header)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def summary(view: RecordView) -> RecordSummary:
    return RecordSummary(
        id=view.id,
        source=view.source,
        source_record_id=view.source_record_id,
        record_class=view.record_class,
        caveat=view.caveat,
        occurred_at=view.occurred_at,
        version=view.version,
        status=view.status,
    )


@router.get("", response_model=Page[RecordSummary], responses=responses(*AUTH_ERRORS, 400))
def list_records(
    request: Request,
    actor: RecordReaderActor,
    store: StoreDep,
    record_class: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    purpose: Purpose = None,
    x_purpose: PurposeHeader = None,
) -> Page[RecordSummary]:
    """Records you may see, in the order they were stored (metadata only; open one for its content).

    The listing is audited with the ids it returned.
    """
    offset = decode_int_cursor(cursor) or 0
    views = reader(store, actor, purpose, x_purpose).list(
        record_class=record_class, limit=limit + 1, offset=offset, ip=client_ip(request)
    )
    items = [summary(v) for v in views[:limit]]
    return Page[RecordSummary](items=items, next_cursor=encode_cursor(offset + limit) if len(views) > limit else None)


@router.get("/{record_id}", response_model=RecordOut, responses=responses(*AUTH_ERRORS, 404))
async def get_record(
    record_id: BigId,
    request: Request,
    actor: RecordReaderActor,
    store: StoreDep,
    purpose: Purpose = None,
    x_purpose: PurposeHeader = None,
) -> Response:
    """One record: every value with its source and grading, and every earlier version.

    Needs a stated purpose (``purpose`` or the ``X-Purpose`` header); the view is audited.
    """
    return await record_response(request, actor, store, record_id, purpose or x_purpose)


async def record_response(request: Request, actor: Any, store: Any, record_id: int, purpose: str | None) -> Response:
    """The work of ``GET /records/{record_id}`` once its parameters are valid (also ``fusionhub.api.fast_reads``)."""
    view = await run_read(request, RecordReader(store, actor, purpose).get, record_id, ip=client_ip(request))
    return json_response(view.to_json())
