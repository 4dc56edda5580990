"""``/policy``: the P/CRCL policy in force, its versions, and submitting a new one.

Reading: the privacy officer and administrators. Submitting: the privacy officer only.
These need a browser session (an API token is refused): a policy change is rare,
decisive, and made by a person who logged in with a second factor.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fusionhub.api.deps import Authenticated, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.pagination import MAX_LIMIT, Page, SmallId, decode_int_cursor, encode_cursor
from fusionhub.policy.actor import Actor
from fusionhub.policy.versions import (
    CHANGE_ROLES,
    VIEW_ROLES,
    PolicyConflict,
    PolicyInvalid,
    diff,
    history,
    policy_summary,
    submit,
)

router = APIRouter(prefix="/policy", tags=["policy"])
PolicyViewer = Annotated[Actor, Depends(Authenticated(None, VIEW_ROLES))]
PolicyOfficer = Annotated[Actor, Depends(Authenticated(None, CHANGE_ROLES))]


class RuleOut(BaseModel):
    id: str
    applies_to: str
    refuses: str
    reason: str
    existence: str = Field(description="'hidden' when a refusal may not confirm the record exists")


class VersionOut(BaseModel):
    id: int
    label: str = Field(description="The policy's own `version:` field")
    sha256: str
    created_by: str
    created_at: str | None
    note: str
    stored: bool = Field(description="False for the packaged file while no version is stored")
    active: bool


class PolicyOut(VersionOut):
    text: str
    rules: list[RuleOut]
    identity: dict[str, Any]
    purposes: dict[str, Any]
    retention: dict[str, Any]


class VersionDetailOut(VersionOut):
    text: str
    diff: str = Field(description="Unified diff from the previous version (empty for the first)")


class PolicyIn(BaseModel):
    text: str = Field(min_length=1, max_length=256 * 1024, description="The whole policy, as YAML")
    note: str = Field(default="", max_length=2000, description="Why it changes; required to activate")
    activate: bool = Field(default=False, description="False: validate and dry-run only")
    base_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The version you edited; refused if another became active"
    )


class AgencyImpactOut(BaseModel):
    agency: str
    newly_allowed: int
    newly_denied: int


class RoleImpactOut(BaseModel):
    role: str
    newly_allowed: int
    newly_denied: int
    by_agency: list[AgencyImpactOut]


class SubmissionOut(BaseModel):
    valid: bool
    activated: bool
    version: VersionOut | None
    previous: VersionOut
    sha256: str
    label: str
    rules: int
    dry_run: list[RoleImpactOut] = Field(
        description="Per role, for a holder of that role alone at any agency: records newly readable or refused"
    )


@router.get("", response_model=PolicyOut, responses=responses(*AUTH_ERRORS))
def active_policy(actor: PolicyViewer, store: StoreDep) -> PolicyOut:
    """The active policy: its text, its read rules in words, and its settings."""
    return PolicyOut(**policy_summary(history(store, actor)[0]))


@router.get("/versions", response_model=Page[VersionOut], responses=responses(*AUTH_ERRORS, 400))
def versions(
    actor: PolicyViewer,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[VersionOut]:
    """Every version, newest (active) first; the cursor is the last id of the previous page."""
    before = decode_int_cursor(cursor)
    rows = [v for v in history(store, actor) if before is None or v.id < before]
    items = [VersionOut(**v.to_json(with_text=False)) for v in rows[:limit]]
    return Page[VersionOut](items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


@router.get("/versions/{version_id}", response_model=VersionDetailOut, responses=responses(*AUTH_ERRORS, 404))
def version(version_id: SmallId, actor: PolicyViewer, store: StoreDep) -> VersionDetailOut:
    """One version's text and its diff from the version before it."""
    all_versions = history(store, actor)
    for i, v in enumerate(all_versions):
        if v.id == version_id:
            older = all_versions[i + 1] if i + 1 < len(all_versions) else None
            return VersionDetailOut(**v.to_json(), diff=diff(older, v))
    raise ApiError(404, "not_found", f"no policy version {version_id}")


@router.post("/versions", response_model=SubmissionOut, responses=responses(*AUTH_ERRORS, 409))
def submit_version(body: PolicyIn, actor: PolicyOfficer, store: StoreDep) -> SubmissionOut:
    """Validate a new policy and dry-run it; with ``activate``, make it the active version.

    Invalid text answers 422 with every problem in ``details.problems``, and nothing
    changes. Activation writes the version and its ``policy.change`` audit event (old and
    new SHA-256) in one transaction; every process uses it from its next transaction.
    """
    try:
        result = submit(store, actor, body.text, note=body.note, activate=body.activate, base_version=body.base_version)
    except PolicyInvalid as exc:
        raise ApiError(422, "policy_invalid", str(exc), {"problems": exc.problems}) from exc
    except PolicyConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return SubmissionOut(**result.to_json())
