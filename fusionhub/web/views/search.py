"""The search page: one query box, facets, highlighted matches, provenance, hits on a map."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import INT32_MAX
from fusionhub.policy.places import record_points
from fusionhub.resolve.profile import canonical_of
from fusionhub.search.engine import SORTS
from fusionhub.search.query import QuerySyntaxError
from fusionhub.search.service import search
from fusionhub.web.caveats import combined
from fusionhub.web.highlight import highlight, matched_terms, narrow
from fusionhub.web.pages import PageActor, client_ip, remember_purpose, render, stated_purpose

router = APIRouter(include_in_schema=False)
PAGE = 20


@router.get("/search")
def search_page(
    request: Request,
    actor: PageActor,
    q: Annotated[str, Query(max_length=2000)] = "",
    sort: Annotated[str, Query(max_length=20)] = "relevance",
    start: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    purpose: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    stated = purpose or stated_purpose(request)
    result = None
    error = None
    hits: list[dict[str, Any]] = []
    if q.strip():
        try:
            result = search(
                get_store(request),
                actor,
                q,
                stated,
                limit=PAGE,
                offset=start,
                sort=sort if sort in SORTS else "relevance",
            )
        except QuerySyntaxError as exc:
            error = str(exc)
    if result is not None:
        points = record_points(get_store(request), actor, [h.record_id for h in result.hits])
        # A hit on an entity that resolution joined to others links to its fused profile.
        canonical = canonical_of(get_store(request), [h.entity_id for h in result.hits if h.entity_id])
        for hit in result.hits:
            terms = matched_terms(hit.matched)
            hits.append(
                {
                    "hit": hit,
                    "caption": highlight(hit.caption, terms),
                    "points": points.get(hit.record_id, []),
                    "entity": canonical.get(hit.entity_id or ""),
                }
            )
    markers = [
        {
            "lat": lat,
            "lon": lon,
            "label": f"{h['hit'].caption} (record {h['hit'].record_id})",
            "href": f"/records/{h['hit'].record_id}",
        }
        for h in hits
        for lat, lon in h["points"]
    ]
    caveat = combined(
        (h["hit"].provenance["caveat"].split()[0].removeprefix("TLP:"), h["hit"].provenance["caveat"].split()[1:])
        for h in hits
    )
    facets = {
        name: [{**b, "href": "/search?q=" + _quote(narrow(q, name, b["value"]))} for b in buckets]
        for name, buckets in (result.facets if result else {}).items()
    }
    response = render(
        request,
        "search.html",
        actor,
        "Search",
        caveat=caveat,
        purpose=stated,
        q=q,
        sort=sort,
        sorts=SORTS,
        result=result,
        hits=hits,
        facets=facets,
        error=error,
        markers=markers,
        start=start,
        later=start + PAGE if result and start + PAGE < result.total else None,
        earlier=max(0, start - PAGE) if start else None,
        ip=client_ip(request),
    )
    if purpose:
        remember_purpose(request, response, purpose)
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
