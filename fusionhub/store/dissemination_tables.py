"""Tables of dissemination beyond the release log of ``policy_tables``: participation
agreements of recipient agencies (28 CFR 23.20(f)(1)) and emergency assessment releases
with their forced post-hoc review (28 CFR 23.20(f)(2)).

The migration ``0004_dissemination`` creates them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text

from fusionhub.store.tables import BigId, metadata

# 28 CFR 23.20(f)(1): a recipient agency has agreed to follow procedures on receipt,
# maintenance, security and dissemination consistent with Part 23. Kept as history: a
# new agreement (renewal) is a new row; the latest one valid today counts.
participation_agreement = Table(
    "participation_agreement",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id", ondelete="CASCADE"), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_participation_agreement_agency", "agency_id", "valid_until"),
)

# 28 CFR 23.20(f)(2): an analyst's assessment (never the record itself) released to avoid
# imminent danger to life or property, with the supervisor named and a review after the fact.
emergency_release = Table(
    "emergency_release",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_ids", JSON, nullable=False),
    Column("assessment", Text, nullable=False),
    Column("danger", String(16), nullable=False),  # life, property
    Column("justification", Text, nullable=False),
    Column("recipient_person", String(255), nullable=False),
    Column("recipient_organization", String(255), nullable=False),
    Column("released_by", String(128), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("supervisor", String(128), nullable=False),
    Column("review_due", DateTime(timezone=True), nullable=False),
    Column("review_status", String(16), nullable=False),  # open, upheld, unwarranted
    Column("reviewed_by", String(128)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    Index("ix_emergency_release_review", "review_status", "supervisor"),
)
