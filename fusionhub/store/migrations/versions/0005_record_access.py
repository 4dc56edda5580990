"""The record-access index follows the audit chain.

Until this revision every audited look wrote its ``audit_record_access`` rows itself;
from now on ``fusionhub.policy.audit.index_record_access`` derives them from the
events above its cursor. Every event already in the store is indexed, so the cursor
starts at the newest one.

Revision ID: 0005_record_access
Revises: 0002_policy
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_record_access"
down_revision = "0002_policy"
branch_labels = None
depends_on = None

FOLLOWER = "audit.record_access"


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO index_cursor (name, seq, updated_at) "
            "SELECT :name, COALESCE(MAX(id), 0), CURRENT_TIMESTAMP FROM audit_event"
        ).bindparams(name=FOLLOWER)
    )


def downgrade() -> None:
    # The older code writes the rows of every new look itself; the events this index
    # had not reached stay unindexed.
    op.execute(sa.text("DELETE FROM index_cursor WHERE name = :name").bindparams(name=FOLLOWER))
