"""``/disseminations``: releases outside the project and the dissemination log
(28 CFR 23.20(e)-(g)), and emergency assessment releases with their post-hoc review
(23.20(f)(2)). Bodies and answers carry no record content beyond ids and markings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fusionhub.api.deps import Authenticated, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import (
    INT64_MAX,
    JSON_INT_MAX,
    MAX_LIMIT,
    BigId,
    Page,
    decode_int_cursor,
    encode_cursor,
)
from fusionhub.ingest.sources import list_agencies
from fusionhub.model.types import InvalidValue
from fusionhub.policy import emergency
from fusionhub.policy.actor import Actor
from fusionhub.policy.dissemination import DISSEMINATORS, LOG_READERS, disseminate, dissemination_log

router = APIRouter(prefix="/disseminations", tags=["dissemination"])

# Releasing is an export of records; reading the log is reading an audit record.
Disseminator = Annotated[Actor, Depends(Authenticated("export", DISSEMINATORS))]
LogReader = Annotated[Actor, Depends(Authenticated("audit:read", LOG_READERS))]
QueueReader = Annotated[Actor, Depends(Authenticated("audit:read", ("supervisor", "privacy-officer")))]
Reviewer = Annotated[Actor, Depends(Authenticated("export", ("supervisor",)))]


def words(count: int) -> str:
    """Text with ``count`` characters besides the whitespace the domain folds away (Python's
    str.split also splits on \x1c-\x1f), so a schema-valid value is one the domain accepts."""
    return rf"^([\s\x1c-\x1f]*[^\s\x1c-\x1f]){{{count}}}[\s\S]*$"


RecordIds = Annotated[list[Annotated[int, Field(ge=1, le=JSON_INT_MAX)]], Field(min_length=1, max_length=100)]


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_ids: RecordIds
    recipient_agency: str = Field(min_length=1, max_length=64, description="A registered agency with an agreement.")
    recipient_person: str = Field(min_length=1, max_length=255, pattern=words(1))
    reason: str = Field(
        min_length=5, max_length=4000, pattern=words(5), description="The recipient's need and right to know."
    )


class ReleasedRecord(BaseModel):
    id: int
    record_class: str
    caveat: str


class ReleaseOut(BaseModel):
    record_ids: list[int]
    recipient_agency: str
    recipient_person: str
    reason: str
    released_at: str
    records: list[ReleasedRecord]


class DisseminationOut(BaseModel):
    id: int
    record_id: int
    record_class: str
    released_by: str
    recipient_agency: str
    recipient_person: str
    reason: str
    marking: str
    released_at: str


class EmergencyIn(BaseModel):
    """An assessment, never a record: unknown fields (a record to attach) are refused."""

    model_config = ConfigDict(extra="forbid")

    record_ids: RecordIds = Field(description="The records the assessment rests on (referenced, not released).")
    assessment: str = Field(
        min_length=20, max_length=20000, pattern=words(20), description="The analyst's own assessment text."
    )
    danger: Literal["life", "property"]
    justification: str = Field(
        min_length=10, max_length=4000, pattern=words(10), description="Why the danger is imminent."
    )
    supervisor: str = Field(min_length=1, max_length=128, description="A supervisor of your agency; reviews it.")
    recipient_person: str = Field(min_length=1, max_length=255, pattern=words(1))
    recipient_organization: str = Field(min_length=1, max_length=255, pattern=words(1))


class EmergencyOut(BaseModel):
    id: int
    record_ids: list[int]
    assessment: str
    danger: str
    justification: str
    recipient_person: str
    recipient_organization: str
    released_by: str
    released_at: str
    supervisor: str
    review_due: str
    review_status: str
    reviewed_by: str | None
    reviewed_at: str | None
    review_note: str | None
    overdue: bool


class ReviewIn(BaseModel):
    outcome: Literal["upheld", "unwarranted"]
    note: str = Field(min_length=5, max_length=4000, pattern=words(5))


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("", response_model=ReleaseOut, status_code=201, responses=responses(*AUTH_ERRORS, 404, 409))
def release(body: ReleaseIn, request: Request, actor: Disseminator, store: StoreDep) -> ReleaseOut:
    """Release records to a named person of a law-enforcement agency with a current participation
    agreement; recorded to whom, when and why. All or nothing; a refusal is audited."""
    if not any(a.code == body.recipient_agency for a in list_agencies(store)):
        raise ApiError(404, "not_found", f"no registered agency {body.recipient_agency!r}: register recipients first")
    try:
        done = disseminate(
            store, actor, body.record_ids, body.recipient_agency, body.recipient_person, body.reason, ip=_ip(request)
        )
    except InvalidValue as exc:  # the request conflicts with the state of the registry
        raise ApiError(409, "conflict", str(exc)) from exc
    return ReleaseOut(
        record_ids=done.record_ids,
        recipient_agency=done.recipient_agency,
        recipient_person=done.recipient_person,
        reason=done.reason,
        released_at=done.released_at,
        records=[ReleasedRecord(id=v.id, record_class=v.record_class, caveat=v.caveat) for v in done.views],
    )


@router.get("", response_model=Page[DisseminationOut], responses=responses(*AUTH_ERRORS, 400))
def log(
    actor: LogReader,
    store: StoreDep,
    record_id: Annotated[int | None, Query(ge=1, le=INT64_MAX, description="Only releases of this record.")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[DisseminationOut]:
    """The dissemination log, oldest first (privacy officers, auditors, supervisors)."""
    rows = dissemination_log(store, actor, record_id, after=decode_int_cursor(cursor), limit=limit + 1)
    items = [DisseminationOut(**r) for r in rows[:limit]]
    return Page[DisseminationOut](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit and items else None
    )


@router.post("/emergency", response_model=EmergencyOut, status_code=201, responses=responses(*AUTH_ERRORS, 404, 409))
def release_emergency(body: EmergencyIn, request: Request, actor: Disseminator, store: StoreDep) -> EmergencyOut:
    """Release your assessment (never the records) to avoid imminent danger to life or property;
    opens a review task for the named supervisor."""
    try:
        done = emergency.release_assessment(
            store,
            actor,
            body.record_ids,
            body.assessment,
            danger=body.danger,
            justification=body.justification,
            supervisor=body.supervisor,
            recipient_person=body.recipient_person,
            recipient_organization=body.recipient_organization,
            ip=_ip(request),
        )
    except InvalidValue as exc:  # the named supervisor is not one who may review it
        raise ApiError(409, "conflict", str(exc)) from exc
    return EmergencyOut(**done.to_json())


@router.get("/emergency", response_model=list[EmergencyOut], responses=responses(*AUTH_ERRORS))
def emergency_log(
    actor: LogReader,
    store: StoreDep,
    status: Annotated[Literal["open", "upheld", "unwarranted"] | None, Query()] = None,
) -> list[EmergencyOut]:
    """Every emergency assessment release with its review state."""
    return [EmergencyOut(**e.to_json()) for e in emergency.emergency_releases(store, actor, status=status)]


@router.get("/reviews", response_model=list[EmergencyOut], responses=responses(*AUTH_ERRORS))
def review_queue(actor: QueueReader, store: StoreDep) -> list[EmergencyOut]:
    """Open post-hoc reviews: your own (supervisors) or every one (privacy officers)."""
    return [EmergencyOut(**e.to_json()) for e in emergency.review_queue(store, actor)]


@router.post("/emergency/{release_id}/review", response_model=EmergencyOut, responses=responses(*AUTH_ERRORS, 404, 409))
def review(release_id: BigId, body: ReviewIn, request: Request, actor: Reviewer, store: StoreDep) -> EmergencyOut:
    """The named supervisor reviews the release: upheld, or unwarranted (flagged to the privacy officer)."""
    try:
        done = emergency.review(store, actor, release_id, body.outcome, body.note, ip=_ip(request))
    except InvalidValue as exc:  # already reviewed: a conflict with its state
        raise ApiError(409, "conflict", str(exc)) from exc
    return EmergencyOut(**done.to_json())
