"""Tables of policy administration: the versions of the P/CRCL policy.

The migration ``0004_policy_versions`` creates them. The newest row is the policy in
force; the packaged ``policy.yaml`` is version 1 and the default while none is stored.
A rollback is a new version with an old text, so the history never loses a step.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table, Text

from fusionhub.store.tables import metadata

policy_version = Table(
    "policy_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", String(64), nullable=False),  # the policy's own ``version:`` field
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
)
