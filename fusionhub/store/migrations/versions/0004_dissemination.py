"""Participation agreements of recipient agencies and emergency assessment releases
(28 CFR 23.20(f)(1) and (f)(2)).

Revision ID: 0004_dissemination
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_dissemination"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "participation_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_participation_agreement_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participation_agreement")),
    )
    op.create_index(
        "ix_participation_agreement_agency", "participation_agreement", ["agency_id", "valid_until"], unique=False
    )
    op.create_table(
        "emergency_release",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("danger", sa.String(length=16), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("recipient_person", sa.String(length=255), nullable=False),
        sa.Column("recipient_organization", sa.String(length=255), nullable=False),
        sa.Column("released_by", sa.String(length=128), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("supervisor", sa.String(length=128), nullable=False),
        sa.Column("review_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_release")),
    )
    op.create_index(
        "ix_emergency_release_review", "emergency_release", ["review_status", "supervisor"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_emergency_release_review", table_name="emergency_release")
    op.drop_table("emergency_release")
    op.drop_index("ix_participation_agreement_agency", table_name="participation_agreement")
    op.drop_table("participation_agreement")
