"""Tables of the search domain: the log of searches run (who, why, what, what was shown).

``search_event`` is the search's audit record until the policy layer's tamper-evident
audit chain takes over; ``fusionhub.search.audit.record_search`` is its only writer.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text

from fusionhub.store.tables import BigId, metadata

search_event = Table(
    "search_event",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("username", String(128), nullable=False),
    Column("purpose", Text),
    Column("query", Text, nullable=False),
    Column("total", Integer, nullable=False),
    # The record ids shown on the page: what the user saw, for the audit trail.
    Column("record_ids", JSON, nullable=False),
    Index("ix_search_event_user_at", "user_id", "at"),
)
