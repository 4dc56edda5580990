"""``/redress``: requests to correct a record, and the owning agency's decisions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fusionhub.api.deps import RecordReaderActor, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.pagination import SmallId
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


class RedressIn(BaseModel):
    record_id: int = Field(ge=1, le=2**63 - 1)
    reason: str = Field(min_length=5, max_length=4000, pattern=r"^(\s*\S){5}[\s\S]*$")
    entity_id: str | None = Field(default=None, max_length=64)
    property: str | None = Field(default=None, max_length=64)
    proposed_value: str | None = Field(default=None, max_length=4000)


class DecisionIn(BaseModel):
    accept: bool
    note: str = Field(min_length=5, max_length=4000, pattern=r"^(\s*\S){5}[\s\S]*$")


@router.get("", response_model=list[RedressOut], responses=responses(*AUTH_ERRORS))
def list_requests(
    actor: RecordReaderActor,
    store: StoreDep,
    status: Annotated[Literal["open", "accepted", "rejected"] | None, Query()] = "open",
) -> list[RedressOut]:
    """Requests about your agency's records or made by you (privacy officers and auditors: all)."""
    return [RedressOut(**r.to_json()) for r in redress.list_requests(store, actor, status)]


@router.post("", response_model=RedressOut, status_code=201, responses=responses(*AUTH_ERRORS, 404))
def request_correction(body: RedressIn, actor: RecordReaderActor, store: StoreDep) -> RedressOut:
    """Flag a record you may read for correction, optionally proposing the corrected value."""
    request_id = redress.request_correction(
        store,
        actor,
        body.record_id,
        body.reason,
        entity_id=body.entity_id,
        prop=body.property,
        proposed_value=body.proposed_value,
    )
    return RedressOut(**redress.get_request(store, request_id).to_json())


@router.post("/{request_id}/decision", response_model=RedressOut, responses=responses(*AUTH_ERRORS, 404, 409))
def decide(request_id: SmallId, body: DecisionIn, actor: RecordReaderActor, store: StoreDep) -> RedressOut:
    """The owning agency's supervisor or privacy officer accepts (applied as a new version) or rejects."""
    return RedressOut(**redress.decide_request(store, actor, request_id, body.accept, body.note).to_json())
