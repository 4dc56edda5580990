"""Tables of entity resolution: models, canonical entities, match pairs, analyst decisions.

Resolution links records; it never rewrites them. ``resolve_entity`` gives each entity
of a record (``ref``: the entity id inside the record payload) the id of the canonical
entity it belongs to; ``resolve_pair`` keeps why two were joined (the model's weight
breakdown, the shared identifier, or the analyst's decision). ``resolve_feature``
holds each person's comparable columns so an incremental run scores a new batch
without re-reading every record. ``resolve_decision`` rows override the model on every
later run and are never deleted (a later decision supersedes an earlier one).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, Index, Integer, String, Table, Text

from fusionhub.store.tables import BigId, metadata

#: The person row columns the resolver computes (``fusionhub.resolve.features.COLUMNS``
#: is ``unique_id`` followed by these); defined here because the store does not import
#: the resolver.
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

resolve_model = Table(
    "resolve_model",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    # Splink's own settings JSON with the trained m/u probabilities and lambda.
    Column("settings", JSON, nullable=False),
    Column("user_name", String(128)),
)

resolve_entity = Table(
    "resolve_entity",
    metadata,
    Column("ref", String(64), primary_key=True),  # entity id inside the record payload
    Column("record_id", BigInteger, nullable=False),
    Column("schema", String(64), nullable=False),
    Column("canonical_id", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_resolve_entity_canonical", "canonical_id"),
    Index("ix_resolve_entity_record", "record_id"),
)

resolve_pair = Table(
    "resolve_pair",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("left_ref", String(64), nullable=False),
    Column("right_ref", String(64), nullable=False),
    # model (Splink score), identifier (a strong identifier shared), decision (analyst)
    Column("kind", String(16), nullable=False),
    Column("probability", Float, nullable=False),
    Column("match_weight", Float),
    # {"prior": w, "comparisons": [{"comparison", "level", "weight"}], "match_weight": w}
    # or {"identifier": scheme, "value_key": ...} or {"decision": id}
    Column("evidence", JSON, nullable=False),
    Column("model_version", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_resolve_pair_left", "left_ref"),
    Index("ix_resolve_pair_right", "right_ref"),
)

resolve_decision = Table(
    "resolve_decision",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # confirm, not-same, split
    Column("left_ref", String(64), nullable=False),
    Column("right_ref", String(64)),  # split: none
    # split: the refs it was separated from at the time of the decision
    Column("details", JSON, nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by", BigInteger),
    Index("ix_resolve_decision_left", "left_ref"),
)

resolve_feature = Table(
    "resolve_feature",
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("record_id", BigInteger, nullable=False),
    *[Column(c, String(255)) for c in FEATURE_COLUMNS],
    Index("ix_resolve_feature_record", "record_id"),
)

#: Strong-identifier keys (``ssn|  |123456789``, ``vin|  |1HG...``) per entity, so an
#: incremental run finds existing holders of a new record's identifiers by index.
resolve_key = Table(
    "resolve_key",
    metadata,
    Column("key", String(255), nullable=False),
    Column("ref", String(64), nullable=False),
    Index("ix_resolve_key_key", "key"),
    Index("ix_resolve_key_ref", "ref"),
)
