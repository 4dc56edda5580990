"""``/retention``: the 28 CFR Part 23 review queue and validation of records kept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fusionhub.api.deps import RetentionReviewer, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import BigId
from fusionhub.api.schemas import ReviewItemOut, Validated, ValidateIn
from fusionhub.model.types import InvalidValue
from fusionhub.policy import retention

router = APIRouter(prefix="/retention", tags=["retention"])


@router.get("/queue", response_model=list[ReviewItemOut], responses=responses(*AUTH_ERRORS))
def queue(
    actor: RetentionReviewer,
    store: StoreDep,
    within_days: Annotated[int, Query(ge=0, le=3660, description="Due within this many days.")] = 90,
) -> list[ReviewItemOut]:
    """Records due for validation or purge, soonest first (metadata only)."""
    return [ReviewItemOut(**item.to_json()) for item in retention.review_queue(store, actor, within_days=within_days)]


@router.post("/{record_id}/validate", response_model=Validated, responses=responses(*AUTH_ERRORS, 404, 409))
def validate(record_id: BigId, body: ValidateIn, actor: RetentionReviewer, store: StoreDep) -> Validated:
    """Validate a record for continued retention, with the justification; sets its next review."""
    try:
        due = retention.validate(store, actor, record_id, body.justification)
    except InvalidValue as exc:  # the record's class is not reviewed: a conflict with its state
        raise ApiError(409, "conflict", str(exc)) from exc
    return Validated(record_id=record_id, review_due=due.isoformat())
