"""Redress: flag a record for correction; the owning agency decides."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import INT64_MAX, SmallId
from fusionhub.policy import redress
from fusionhub.web.pages import PageActor, render

router = APIRouter(include_in_schema=False)
REDRESS_CAVEAT = "TLP:AMBER LES PRIVACY — correction requests about records and the people in them"


@router.get("/redress")
def redress_page(
    request: Request,
    actor: PageActor,
    status: Annotated[str, Query(pattern="^(open|accepted|rejected|all)$")] = "open",
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    items = redress.list_requests(get_store(request), actor, None if status == "all" else status)
    return render(
        request,
        "redress.html",
        actor,
        "Redress",
        caveat=REDRESS_CAVEAT,
        items=items,
        shown=status,
        message=message,
        may_decide=actor.has("supervisor", "privacy-officer"),
    )


@router.post("/redress")
def redress_request(
    request: Request,
    actor: PageActor,
    record_id: Annotated[int, Form(ge=1, le=INT64_MAX)],
    reason: Annotated[str, Form(max_length=4000)],
) -> Response:
    new = redress.request_correction(get_store(request), actor, record_id, reason)
    return RedirectResponse(f"/redress?message={quote(f'request {new} filed')}", status_code=303)


@router.post("/redress/{request_id}/decision")
def redress_decide(
    request: Request,
    request_id: SmallId,
    actor: PageActor,
    decision: Annotated[str, Form(pattern="^(accept|reject)$")],
    note: Annotated[str, Form(max_length=4000)],
) -> Response:
    done = redress.decide_request(get_store(request), actor, request_id, decision == "accept", note)
    return RedirectResponse(f"/redress?message={quote(f'request {done.id} {done.status}')}", status_code=303)
