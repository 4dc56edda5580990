"""Request and response shapes of the API: one per operation, never the tables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The vocabularies as the OpenAPI document states them (tests/api check they match the domain's).
AgencyKind = Literal[
    "law-enforcement", "federal", "state", "tribal", "private-sector", "public-health", "fire-ems", "other"
]
SourceKind = Literal[
    "rms", "cad", "lpr", "jail", "private-sector", "federal-feed", "tip-line", "sar-intake", "registry", "intelligence"
]
RecordClass = Literal[
    "incident",
    "call-for-service",
    "arrest",
    "lpr-read",
    "tip",
    "sar",
    "criminal-intelligence",
    "alert",
    "person-record",
]
Role = Literal["analyst", "supervisor", "privacy-officer", "field-user", "partner", "auditor", "administrator"]
Scope = Literal[
    "records:read", "search", "records:write", "export", "audit:read", "users:manage", "retention", "redress"
]
CAVEAT_PATTERN = r"^(TLP:)?(CLEAR|GREEN|AMBER|AMBER\+STRICT|RED)( (LES|CUI|FOUO|PRIVACY|NO-PRIVATE-SECTOR|ORCON))*$"


class SharingTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    law_enforcement_only: bool | None = None
    no_private_sector: bool | None = None
    agency_only: bool | None = None
    originator_approval: bool | None = None


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, max_length=16, description="The current code of the user's TOTP app.")


class Me(BaseModel):
    username: str
    agency: str
    roles: list[str]
    csrf_token: str | None = Field(default=None, description="Echo in X-CSRF-Token on writes made with the cookie.")


class TokenRequest(BaseModel):
    scopes: list[Scope] = Field(min_length=1, max_length=8)
    expires_in: int = Field(default=86400, ge=60, le=90 * 86400, description="Seconds until the token expires.")


class TokenCreated(BaseModel):
    token: str = Field(description="Shown once; send as `Authorization: Bearer <token>`.")
    scopes: list[Scope]
    expires_in: int


class AgencyOut(BaseModel):
    code: str
    name: str
    kind: str


class AgencyIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str | None = Field(default=None, max_length=255)
    kind: AgencyKind = "law-enforcement"


class SourceOut(BaseModel):
    name: str
    agency: str
    system: str
    kind: str
    record_class: str
    reliability: str
    validity: str
    tlp: str
    handling: list[str]
    caveat: str
    sharing_terms: dict[str, bool]
    profile: str | None
    last_import_at: str | None = Field(default=None, description="When its newest import finished: its freshness.")
    last_import_status: str | None = None


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    agency: str = Field(min_length=1, max_length=64)
    kind: SourceKind
    system: str | None = Field(default=None, max_length=128)
    reliability: str | None = Field(default=None, pattern="^[A-F]$", description="Source reliability A-F.")
    validity: str | None = Field(default=None, pattern="^[1-6]$", description="Information validity 1-6.")
    caveat: str | None = Field(
        default=None, pattern=CAVEAT_PATTERN, description="Default handling caveat, e.g. 'TLP:AMBER LES'."
    )
    record_class: RecordClass | None = None
    sharing_terms: SharingTerms = Field(default_factory=SharingTerms)
    profile: str | None = Field(default=None, max_length=64, description="A shipped mapping profile's name.")


class UserOut(BaseModel):
    username: str
    agency: str
    roles: list[str]
    display_name: str | None
    active: bool
    mfa_enrolled: bool
    locked_until: str | None
    training_date: str | None
    training_current: bool


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    agency: str = Field(min_length=1, max_length=64)
    roles: list[Role] = Field(min_length=1, max_length=7)
    display_name: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, min_length=12, max_length=1024)


class PasswordIn(BaseModel):
    password: str = Field(min_length=12, max_length=1024)


class ImportJobOut(BaseModel):
    id: str
    source: str
    file_name: str
    user: str
    profile: str | None
    status: str = Field(description="queued, running, done, partial (rows quarantined) or failed")
    rows_read: int
    bytes_read: int
    bytes_total: int
    percent: float
    batch_id: int | None
    report: dict[str, Any] | None
    error: str | None


class BatchOut(BaseModel):
    id: int
    source: str
    file_name: str
    file_sha256: str | None
    profile: str
    started_at: str
    finished_at: str | None
    status: str
    rows_read: int
    rows_stored: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    message: str | None
    user: str | None


class QuarantinedRow(BaseModel):
    id: int
    row: int
    reason: str
    raw: str | None = Field(description="The row as read, truncated; inert text, never evaluated.")


class Provenance(BaseModel):
    agency: str
    source: str
    system: str
    source_record_id: str
    batch_id: int | None
    received_at: str
    reliability: str
    validity: str


class RecordOut(BaseModel):
    id: int
    provenance: Provenance
    record_class: str
    caveat: str
    tlp: str
    handling: list[str]
    review_due: str
    status: str
    version: int
    seq: int
    occurred_at: str | None
    entities: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    unmapped: dict[str, Any]
    versions: list[dict[str, Any]]


class RecordSummary(BaseModel):
    id: int
    source: str
    source_record_id: str
    record_class: str
    caveat: str
    occurred_at: str | None
    version: int
    status: str


class SearchHitOut(BaseModel):
    record_id: int
    entity_type: str
    entity_id: str | None
    score: float
    caption: str
    matched: list[dict[str, Any]] = Field(description="Which field of the query matched and how.")
    provenance: dict[str, Any]


class FacetBucket(BaseModel):
    value: Any
    count: int


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Readable records that match; the policy runs inside the index query.")
    hits: list[SearchHitOut]
    facets: dict[str, list[FacetBucket]]
    limit: int
    offset: int
    warnings: list[str]
    next_cursor: str | None


class AuditEventOut(BaseModel):
    id: int
    ts: str
    username: str
    action: str
    subject: str | None
    purpose: str | None
    ip: str | None
    details: dict[str, Any]


class ChainStatus(BaseModel):
    ok: bool
    events: int
    head_seq: int
    checkpoint_seq: int | None
    first_bad: int | None
    problem: str | None
    seconds: float


class ReviewItemOut(BaseModel):
    record_id: int
    record_class: str
    agency: str
    received_at: str
    review_due: str
    overdue: bool
    criminal_activity: str | None


class ValidateIn(BaseModel):
    justification: str = Field(
        min_length=10,
        max_length=4000,
        pattern=r"^([\s\x1c-\x1f]*[^\s\x1c-\x1f]){10}[\s\S]*$",
        description="Why the record is kept (28 CFR 23.20(h)); ten or more characters besides spaces.",
    )


class Validated(BaseModel):
    record_id: int
    review_due: str
