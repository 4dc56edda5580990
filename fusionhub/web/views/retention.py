"""The retention review queue (28 CFR 23.20(h)): validate with a justification, or let it purge."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import BigId
from fusionhub.policy import retention
from fusionhub.web.pages import PageActor, render, require

router = APIRouter(include_in_schema=False)
REVIEW_ROLES = ("privacy-officer", "supervisor")
QUEUE_CAVEAT = "TLP:AMBER LES — criminal intelligence review metadata (no record content)"


@router.get("/retention")
def retention_page(
    request: Request,
    actor: PageActor,
    within_days: Annotated[int, Query(ge=0, le=3660)] = 90,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    require(actor, *REVIEW_ROLES)
    items = retention.review_queue(get_store(request), actor, within_days=within_days)
    return render(
        request,
        "retention.html",
        actor,
        "Retention review",
        caveat=QUEUE_CAVEAT,
        items=items,
        within_days=within_days,
        review_years=retention.review_years(),
        message=message,
    )


@router.post("/retention/{record_id}/validate")
def retention_validate(
    request: Request,
    record_id: BigId,
    actor: PageActor,
    justification: Annotated[str, Form(max_length=4000)],
) -> Response:
    require(actor, *REVIEW_ROLES)
    due = retention.validate(get_store(request), actor, record_id, justification)
    note = f"record {record_id} validated; next review {due.date().isoformat()}"
    return RedirectResponse(f"/retention?message={quote(note)}", status_code=303)
