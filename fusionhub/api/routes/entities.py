"""``/entities``: fused profiles of resolved entities and analysts' resolution decisions.

The handlers only translate HTTP into the calls ``fusionhub entity show`` and
``fusionhub resolve decide|decisions`` make: ``entity_profile`` (policy-filtered,
purpose required, audited), ``decide`` (audited) and ``entity_decisions``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from fusionhub.api.deps import Authenticated, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.resolve.decisions import DECIDERS, KINDS, decide
from fusionhub.resolve.profile import entity_decisions, entity_profile

router = APIRouter(prefix="/entities", tags=["entities"])

#: Roles that read fused profiles: those that read records at all (the policy then
#: decides, record by record, which values each of them sees).
PROFILE_ROLES = tuple(sorted(RECORD_READERS))
EntityReader = Annotated[Actor, Depends(Authenticated("records:read", PROFILE_ROLES))]
#: Changing how entities are resolved is a write, for the roles the domain names.
Decider = Annotated[Actor, Depends(Authenticated("records:write", DECIDERS))]

EntityId = Annotated[
    str, Path(min_length=1, max_length=64, description="A canonical entity id (`E...`) from resolution.")
]
DecisionKind = Literal["confirm", "not-same", "split"]
assert set(get_args(DecisionKind)) == set(KINDS)


class SourceValue(BaseModel):
    """One record that states a value: its source, grading, caveat and date."""

    model_config = ConfigDict(extra="allow")
    record_id: int
    source: str
    agency: str
    reliability: str = Field(description="Source reliability A-F.")
    validity: str = Field(description="Information validity 1-6.")
    received_at: str
    caveat: str
    date: str | None = Field(description="When the record says it happened, else when it was received.")


class AttributeValue(BaseModel):
    value: str
    originals: list[str] = Field(description="The text as the sources sent it, where it differs.")
    sources: list[SourceValue]


class Appearance(BaseModel):
    """A record the entity appears in (``ref``: the entity's id inside that record)."""

    model_config = ConfigDict(extra="allow")
    ref: str
    caption: str
    record_id: int
    source: str
    agency: str
    reliability: str
    validity: str
    received_at: str
    caveat: str


class JoinReason(BaseModel):
    """Why two members were joined: the model's weight breakdown, a shared identifier, or a decision."""

    left: str
    right: str | None
    kind: str = Field(description="model, identifier, or decision:<kind>")
    probability: float | None = None
    evidence: dict[str, Any] | None = None
    model_version: int | None = None


class EntityProfileOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    attributes: dict[str, list[AttributeValue]] = Field(description="Every value with every record that states it.")
    conflicts: dict[str, list[str]] = Field(description="Properties with more than one value, side by side.")
    records: list[Appearance]
    events: list[dict[str, Any]] = Field(description="Incidents and other events the entity has a role in.")
    related: list[dict[str, Any]] = Field(description="Entities it is tied to, with the records that state the tie.")
    links: list[JoinReason]
    timeline: list[dict[str, Any]]


Ref = Annotated[str, Field(min_length=1, max_length=64, description="An entity reference (entity id inside a record).")]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S", description="Why; audited with it.")]


class PairDecisionIn(BaseModel):
    """Two references are one entity (``confirm``), or must never be joined (``not-same``)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["confirm", "not-same"]
    left: Ref
    right: Ref
    reason: Reason


class SplitDecisionIn(BaseModel):
    """Take one reference out of the entity it was joined to."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["split"]
    left: Ref
    reason: Reason


DecisionIn = Annotated[PairDecisionIn | SplitDecisionIn, Field(discriminator="kind")]


class DecisionCreated(BaseModel):
    decision: int
    kind: DecisionKind
    takes_effect: str


class DecisionOut(BaseModel):
    id: int
    kind: str
    left: str
    right: str | None
    user: str
    reason: str
    at: str
    superseded_by: int | None
    details: dict[str, Any]


@router.post(
    "/decisions",
    response_model=DecisionCreated,
    status_code=201,
    responses=responses(*AUTH_ERRORS, 404),
)
def post_decision(body: DecisionIn, actor: Decider, store: StoreDep) -> dict[str, Any]:
    """Confirm that two references are one entity, mark them not the same, or split one out.

    The decision is audited, persists, and overrides the model on every later resolution
    run. Both references must be in records you may read.
    """
    right = body.right if isinstance(body, PairDecisionIn) else None
    decision_id = decide(store, actor, body.kind, body.left, right, body.reason)
    return {"decision": decision_id, "kind": body.kind, "takes_effect": "on the next resolution run"}


@router.get("/{entity_id}", response_model=EntityProfileOut, responses=responses(*AUTH_ERRORS, 404))
def get_entity(
    entity_id: EntityId,
    actor: EntityReader,
    store: StoreDep,
    purpose: Annotated[
        str | None, Query(max_length=500, description="Why you look: a case number or a configured reason (audited).")
    ] = None,
    x_purpose: Annotated[str | None, Header(alias="X-Purpose", max_length=500)] = None,
) -> dict[str, Any]:
    """The fused profile: every attribute value with its sources and grading, conflicts side
    by side, the records and events it appears in, related entities, a timeline, and why
    its members were joined. Only values from records you may read.

    Needs a stated purpose (``purpose`` or ``X-Purpose``); the view is audited.
    """
    return entity_profile(store, actor, entity_id, purpose or x_purpose)


@router.get("/{entity_id}/decisions", response_model=list[DecisionOut], responses=responses(*AUTH_ERRORS, 404))
def get_decisions(entity_id: EntityId, actor: EntityReader, store: StoreDep) -> list[dict[str, Any]]:
    """Analysts' decisions about the entity's members, oldest first (only those naming
    records you may read)."""
    return entity_decisions(store, actor, entity_id)
