"""``/redress``: requests to correct a record, and the owning agency's decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fusionhub.api.deps import RecordReaderActor, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import JSON_INT_MAX, SmallId
from fusionhub.model.types import InvalidValue
from fusionhub.policy import redress

router = APIRouter(prefix="/redress", tags=["redress"])


class RedressOut(BaseModel):
    id: int
    record_id: int
    requested_by: str
    requested_at: str
    entity_id: str | None
    property: str | None
    proposed_value: str | None
    reason: str
    status: str
    decided_by: str | None
    decision_note: str | None


def words(count: int) -> str:
    """A pattern for text with ``count`` characters besides the spaces the domain folds away
    (Python's str.split also splits on the \x1c-\x1f separators)."""
    return rf"^([\s\x1c-\x1f]*[^\s\x1c-\x1f]){{{count}}}[\s\S]*$"


class Correction(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64, description="The entity of the record (its id).")
    property: str = Field(min_length=1, max_length=64)
    proposed_value: str | None = Field(default=None, max_length=4000)


class RedressIn(BaseModel):
    record_id: int = Field(ge=1, le=JSON_INT_MAX)
    reason: str = Field(min_length=5, max_length=4000, pattern=words(5))
    correction: Correction | None = Field(default=None, description="A proposed corrected value, if any.")


class DecisionIn(BaseModel):
    accept: bool
    note: str = Field(min_length=5, max_length=4000, pattern=words(5))


@router.get("", response_model=list[RedressOut], responses=responses(*AUTH_ERRORS))
def list_requests(
    actor: RecordReaderActor,
    store: StoreDep,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, Query()] = "open",
) -> list[RedressOut]:
    """Requests about your agency's records or made by you (privacy officers and auditors: all)."""
    return [RedressOut(**r.to_json()) for r in redress.list_requests(store, actor, status)]


@router.post("", response_model=RedressOut, status_code=201, responses=responses(*AUTH_ERRORS, 404, 409))
def request_correction(body: RedressIn, actor: RecordReaderActor, store: StoreDep) -> RedressOut:
    """Flag a record you may read for correction, optionally proposing the corrected value."""
    try:
        request_id = _request_correction(body, actor, store)
    except InvalidValue as exc:  # the named entity or property is not in the record
        raise ApiError(409, "conflict", str(exc)) from exc
    return RedressOut(**redress.get_request(store, request_id).to_json())


def _request_correction(body: RedressIn, actor: Any, store: Any) -> int:
    return redress.request_correction(
        store,
        actor,
        body.record_id,
        body.reason,
        entity_id=body.correction.entity_id if body.correction else None,
        prop=body.correction.property if body.correction else None,
        proposed_value=body.correction.proposed_value if body.correction else None,
    )


@router.post("/{request_id}/decision", response_model=RedressOut, responses=responses(*AUTH_ERRORS, 404, 409))
def decide(request_id: SmallId, body: DecisionIn, actor: RecordReaderActor, store: StoreDep) -> RedressOut:
    """The owning agency's supervisor or privacy officer accepts (applied as a new version) or rejects."""
    try:
        decided = redress.decide_request(store, actor, request_id, body.accept, body.note)
    except InvalidValue as exc:  # already decided, or the correction no longer applies
        raise ApiError(409, "conflict", str(exc)) from exc
    return RedressOut(**decided.to_json())
