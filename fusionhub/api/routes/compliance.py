"""``/compliance``: the privacy compliance report (privacy officers and auditors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from fusionhub.api.deps import Auditor, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.policy import compliance

router = APIRouter(prefix="/compliance", tags=["compliance"])


@router.get("/report", responses=responses(*AUTH_ERRORS))
def report(
    actor: Auditor, store: StoreDep, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Accesses by role and agency, denials, purges, overdue reviews, lapsed training, redress, chain status."""
    body: dict[str, Any] = compliance.build_report(store, actor, since, until)
    return body


@router.get(
    "/report.csv",
    responses={**responses(*AUTH_ERRORS), 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    response_class=Response,
)
def report_csv(
    actor: Auditor, store: StoreDep, since: datetime | None = None, until: datetime | None = None
) -> Response:
    """The same report as CSV rows (section, item, value)."""
    text = compliance.to_csv(compliance.build_report(store, actor, since, until))
    return Response(text, media_type="text/csv")
