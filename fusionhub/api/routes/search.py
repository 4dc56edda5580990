"""``/search``: one query over every source, filtered by the policy inside the index."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from fusionhub.api.deps import Searcher, StoreDep, run_read
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import decode_int_cursor, encode_cursor
from fusionhub.api.responses import json_response
from fusionhub.api.schemas import SearchOut
from fusionhub.search.engine import SORTS
from fusionhub.search.service import MAX_LIMIT, search

router = APIRouter(prefix="/search", tags=["search"])


@router.get("", response_model=SearchOut, responses=responses(*AUTH_ERRORS, 400, 503))
async def run_search(
    request: Request,
    actor: Searcher,
    store: StoreDep,
    q: Annotated[str, Query(min_length=1, max_length=2000, description="The query (see docs/search.md).")],
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "relevance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    purpose: Annotated[str | None, Query(max_length=500)] = None,
    x_purpose: Annotated[str | None, Header(alias="X-Purpose", max_length=500)] = None,
) -> Response:
    """Hits with provenance and what matched, the total and facet counts (readable records only).

    Audited with the stated purpose and the records shown.
    """
    return await search_response(request, actor, store, q, sort, limit, cursor, purpose or x_purpose)


async def search_response(
    request: Request, actor: Any, store: Any, q: str, sort: str, limit: int, cursor: str | None, purpose: str | None
) -> Response:
    """The work of ``GET /search`` once its parameters are valid (also ``fusionhub.api.fast_reads``)."""
    offset = decode_int_cursor(cursor) or 0
    result = await run_read(request, search, store, actor, q, purpose, limit=limit, offset=offset, sort=sort)
    body: dict[str, Any] = result.to_json()
    body["next_cursor"] = encode_cursor(offset + limit) if offset + limit < result.total else None
    return json_response(body)
