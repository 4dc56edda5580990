"""Search: the log of searches run.

Revision ID: 0002_search
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_search"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text()),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_event")),
    )
    op.create_index("ix_search_event_user_at", "search_event", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_search_event_user_at", table_name="search_event")
    op.drop_table("search_event")
