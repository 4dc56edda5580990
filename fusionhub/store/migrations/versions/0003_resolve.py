"""Entity resolution: models, canonical entities, match pairs, decisions, person features.

Revision ID: 0003_resolve
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_resolve"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FEATURE_COLUMNS = (
    "given",
    "given_mp",
    "given_nick",
    "middle",
    "surname",
    "surname_mp",
    "surname_tokens",
    "dob",
    "dob_swap",
    "dob_digits",
    "sex",
    "ident",
    "street_number",
    "street",
    "locality",
    "city",
    "postcode",
    "state",
    "phone",
)


def upgrade() -> None:
    op.create_table(
        "resolve_model",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_resolve_model")),
    )
    op.create_table(
        "resolve_entity",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("schema", sa.String(length=64), nullable=False),
        sa.Column("canonical_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_resolve_entity")),
    )
    op.create_index("ix_resolve_entity_canonical", "resolve_entity", ["canonical_id"])
    op.create_index("ix_resolve_entity_record", "resolve_entity", ["record_id"])
    op.create_table(
        "resolve_pair",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("left_ref", sa.String(length=64), nullable=False),
        sa.Column("right_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolve_pair")),
    )
    op.create_index("ix_resolve_pair_left", "resolve_pair", ["left_ref"])
    op.create_index("ix_resolve_pair_right", "resolve_pair", ["right_ref"])
    op.create_table(
        "resolve_decision",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("left_ref", sa.String(length=64), nullable=False),
        sa.Column("right_ref", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolve_decision")),
    )
    op.create_index("ix_resolve_decision_left", "resolve_decision", ["left_ref"])
    op.create_table(
        "resolve_feature",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        *[sa.Column(c, sa.String(length=255), nullable=True) for c in FEATURE_COLUMNS],
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_resolve_feature")),
    )
    op.create_index("ix_resolve_feature_record", "resolve_feature", ["record_id"])
    op.create_table(
        "resolve_key",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_resolve_key_key", "resolve_key", ["key"])
    op.create_index("ix_resolve_key_ref", "resolve_key", ["ref"])


def downgrade() -> None:
    op.drop_table("resolve_key")
    op.drop_table("resolve_feature")
    op.drop_table("resolve_decision")
    op.drop_table("resolve_pair")
    op.drop_table("resolve_entity")
    op.drop_table("resolve_model")
