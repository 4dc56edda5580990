"""The audit viewer: filter by user, subject, record and time; the chain's status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import INT32_MAX, INT64_MAX
from fusionhub.policy import audit
from fusionhub.web.pages import PageActor, render, require

router = APIRouter(include_in_schema=False)
PAGE = 100
#: The audit trail names people searched for and records viewed: it is itself sensitive.
AUDIT_CAVEAT = "TLP:AMBER LES PRIVACY — audit trail: who looked at what, and why"


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@router.get("/audit")
def audit_page(
    request: Request,
    actor: PageActor,
    user: Annotated[str | None, Query(max_length=128)] = None,
    subject: Annotated[str | None, Query(max_length=255)] = None,
    record_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    verify: bool = False,
) -> Response:
    require(actor, *audit.AUDIT_READERS)
    store = get_store(request)
    found = audit.query(
        store,
        actor,
        user=user or None,
        subject=subject or None,
        record_id=record_id,
        action=action or None,
        since=_when(since),
        until=_when(until),
        limit=start + PAGE + 1,
    )
    chain = audit.verify(store) if verify else None
    filters = {
        "user": user or "",
        "subject": subject or "",
        "record_id": record_id or "",
        "action": action or "",
        "since": since or "",
        "until": until or "",
    }
    return render(
        request,
        "audit.html",
        actor,
        "Audit trail",
        caveat=AUDIT_CAVEAT,
        events=found[start : start + PAGE],
        later=start + PAGE if len(found) > start + PAGE else None,
        earlier=max(0, start - PAGE) if start else None,
        filters=filters,
        chain=chain,
        checkpoint=audit.checkpoint(store),
    )
