"""Policy administration: the stored versions of the P/CRCL policy.

Revision ID: 0004_policy_versions
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_policy_versions"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_version")
