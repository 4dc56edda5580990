"""Tables of the policy domain: the audit chain, sessions and tokens, 28 CFR Part 23
predicates and reviews, purges, disseminations, privacy flags and redress.

The migration ``0002_policy`` creates them.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from fusionhub.store.tables import BigId, metadata

# One row per audited action. ``hash`` = HMAC(key, previous hash + canonical event): the
# chain is verified by ``fusionhub audit verify``. ``ts`` and ``details`` are kept as the
# exact text that was hashed so that verification never re-serialises (and cannot drift).
audit_event = Table(
    "audit_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),
    Column("username", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(255)),
    Column("purpose", Text),
    Column("ip", String(64)),
    Column("details", Text, nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_event_user_ts", "username", "ts"),
    Index("ix_audit_event_subject", "subject"),
    Index("ix_audit_event_action_ts", "action", "ts"),
)

# The chain head: its row is locked by every audit write, which serialises the chain.
audit_head = Table(
    "audit_head",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Which records each audited read returned or showed: answers "who looked at record X"
# without scanning event details. Derived from the events, written in the same transaction.
audit_record_access = Table(
    "audit_record_access",
    metadata,
    Column("event_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Index("ix_audit_record_access_record", "record_id", "event_id"),
)

user_security = Table(
    "user_security",
    metadata,
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    # Secret offered at enrolment, moved to app_user.totp_secret when a code confirms it.
    Column("totp_pending", String(64)),
    Column("totp_confirmed_at", DateTime(timezone=True)),
    # Last TOTP time step accepted: a code is never accepted twice (replay).
    Column("last_totp_step", BigInteger),
    Column("password_changed_at", DateTime(timezone=True)),
)

user_session = Table(
    "user_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(64)),
    Column("ip", String(64)),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128)),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
)

# 28 CFR 23.20(a): the criminal predicate of a criminal intelligence record, and the
# submitter's structured basis for any SAR, tip or intelligence entry (First Amendment guard).
criminal_predicate = Table(
    "criminal_predicate",
    metadata,
    Column("record_id", BigInteger, ForeignKey("record.id", ondelete="CASCADE"), primary_key=True),
    Column("criminal_activity", String(64)),
    Column("basis", Text, nullable=False),
    Column("protected_activity", JSON, nullable=False),
    Column("nexus", Text),
    Column("submitted_by", String(128), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

# 28 CFR 23.20(h): every review keeps reviewer, date and explanation.
record_review = Table(
    "record_review",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("reviewed_at", DateTime(timezone=True), nullable=False),
    Column("decision", String(16), nullable=False),  # validated, purged
    Column("justification", Text, nullable=False),
    Column("previous_due", DateTime(timezone=True)),
    Column("new_due", DateTime(timezone=True)),
    Index("ix_record_review_record", "record_id"),
)

# Who purged which record, when and why; never the record's content.
purge_log = Table(
    "purge_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, nullable=False),
    Column("record_class", String(32), nullable=False),
    Column("agency_id", Integer, nullable=False),
    Column("purged_at", DateTime(timezone=True), nullable=False),
    Column("purged_by", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_purge_log_record", "record_id"),
)

# 28 CFR 23.20(g): to whom, when and why each release outside the project was made.
dissemination = Table(
    "dissemination",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, nullable=False),
    Column("record_class", String(32), nullable=False),
    Column("released_by", String(128), nullable=False),
    Column("recipient_agency", String(64), nullable=False),
    Column("recipient_person", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("marking", String(255), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Index("ix_dissemination_record", "record_id"),
)

# Items for the privacy officer: First Amendment refusals and protected-activity wording.
privacy_flag = Table(
    "privacy_flag",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger),
    Column("kind", String(48), nullable=False),
    Column("username", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, closed
    Column("closed_by", String(128)),
    Column("closed_at", DateTime(timezone=True)),
)

# Correction and redress requests: flagged by anyone with access, decided by the owner.
redress_request = Table(
    "redress_request",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, nullable=False),
    Column("agency_id", Integer, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("entity_id", String(128)),
    Column("property", String(64)),
    Column("proposed_value", Text),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, accepted, rejected
    Column("decided_by", String(128)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    Column("applied_version", Integer),
    Index("ix_redress_request_record", "record_id"),
)

# Whatever cited a corrected or purged record: recipients of disseminations, products.
correction_notice = Table(
    "correction_notice",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, nullable=False),
    Column("redress_id", BigInteger),
    Column("kind", String(32), nullable=False),  # dissemination, citation, purge
    Column("target", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
)
