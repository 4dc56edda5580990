"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/`` create them.

Records are stored whole: one row per source record, holding the entities mapped from
it as a JSON payload in which every value keeps its original text. Provenance (agency,
system, source record id, batch, received time, grading, caveat, class) sits on the
record row, so every value inherits it. Earlier versions move to ``record_version``.

``record.seq`` is the change sequence: every insert, update, cancellation or purge of
a record takes the next number, allocated under the ``store_counter`` row lock so that
numbers become visible in commit order (see ``Store.allocate_seq``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger that is still SQLite's rowid alias (INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")

store_counter = Table(
    "store_counter",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

agency = Table(
    "agency",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    # law-enforcement, federal, private-sector, public-health, other
    Column("kind", String(32), nullable=False, default="law-enforcement"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

source = Table(
    "source",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("system", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("record_class", String(32), nullable=False),
    Column("default_reliability", String(1), nullable=False),
    Column("default_validity", String(1), nullable=False),
    Column("default_tlp", String(16), nullable=False),
    Column("default_handling", JSON, nullable=False),
    # e.g. {"law_enforcement_only": true, "no_private_sector": true, "agency_only": false,
    #       "originator_approval": false}
    Column("sharing_terms", JSON, nullable=False),
    Column("profile", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ingest_batch = Table(
    "ingest_batch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("source.id"), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64)),
    Column("profile", String(255), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # running, done, partial (rows quarantined), failed
    Column("status", String(16), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_stored", Integer, nullable=False, default=0),
    Column("rows_updated", Integer, nullable=False, default=0),
    Column("rows_unchanged", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("last_row", Integer, nullable=False, default=0),
    Column("message", Text),
    Column("user_name", String(128)),
)

record = Table(
    "record",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_id", Integer, ForeignKey("source.id"), nullable=False),
    Column("source_record_id", String(255), nullable=False),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("batch_id", Integer, ForeignKey("ingest_batch.id")),
    Column("record_class", String(32), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("handling", String(255), nullable=False, default=""),  # comma-joined, sorted
    Column("reliability", String(1), nullable=False),
    Column("validity", String(1), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("occurred_at", String(32)),  # ISO text of the main event's time, for time filters
    Column("review_due", DateTime(timezone=True), nullable=False),
    # active, cancelled (source withdrew it), purged (content removed; tombstone)
    Column("status", String(16), nullable=False, default="active"),
    Column("version", Integer, nullable=False, default=1),
    Column("content_hash", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_id", "source_record_id", name="uq_record_source_key"),
    Index("ix_record_seq", "seq", unique=True),
    Index("ix_record_agency_class", "agency_id", "record_class"),
    Index("ix_record_review_due", "review_due"),
)

record_version = Table(
    "record_version",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("record_id", BigInteger, ForeignKey("record.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("batch_id", Integer, ForeignKey("ingest_batch.id")),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True), nullable=False),
    Column("reliability", String(1), nullable=False),
    Column("validity", String(1), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("handling", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("content_hash", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    UniqueConstraint("record_id", "version", name="uq_record_version"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("ingest_batch.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("source_record_id", String(255)),
    Column("reason", Text, nullable=False),
    Column("raw", Text),  # the row as read, truncated; kept inert, never evaluated
    Index("ix_quarantine_batch", "batch_id", "row_number"),
)

# Where each derived index (search, resolution, watchlists) has read the change sequence up to.
index_cursor = Table(
    "index_cursor",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

app_user = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("display_name", String(255)),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", String(255)),
    Column("totp_secret", String(64)),
    # Date of the user's last privacy, civil rights and civil liberties training.
    Column("training_date", DateTime(timezone=True)),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
