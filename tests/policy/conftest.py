"""Policy fixtures: records laid down directly with chosen metadata, users with passwords."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from fusionhub.ingest.sources import add_source, get_source
from fusionhub.policy.rules import SHARING_TERMS
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def make_source(store: Store, name: str, agency: str, terms: dict[str, bool], kind: str = "rms") -> int:
    factories.agency(store, agency)
    try:
        return get_source(store, name).id
    except Exception:
        # Every term explicit: the kind's default terms must not creep in.
        explicit = {term: bool(terms.get(term)) for term in SHARING_TERMS}
        return add_source(store, name, agency, kind, sharing_terms=explicit).id


def make_record(
    store: Store,
    source_id: int,
    *,
    record_class: str = "incident",
    tlp: str = "AMBER",
    handling: str = "",
    status: str = "active",
    received: datetime = T0,
    review_due: datetime | None = None,
    name: str = "Jane Roe",
    key: str | None = None,
    conn: Connection | None = None,
) -> int:
    """One record with a Person entity; returns its id (inside ``conn`` when given)."""
    if conn is None:
        with store.begin() as own:
            return make_record(
                store,
                source_id,
                record_class=record_class,
                tlp=tlp,
                handling=handling,
                status=status,
                received=received,
                review_due=review_due,
                name=name,
                key=key,
                conn=own,
            )
    if True:
        agency_id = conn.execute(select(t.source.c.agency_id).where(t.source.c.id == source_id)).scalar_one()
        seq = store.allocate_seq(conn)
        payload: dict[str, Any] = {
            "entities": [{"schema": "Person", "key": "person", "id": f"p-{seq}", "properties": {"name": [name]}}]
        }
        new = conn.execute(
            insert(t.record).values(
                source_id=source_id,
                source_record_id=key or f"r{seq}",
                agency_id=agency_id,
                record_class=record_class,
                tlp=tlp,
                handling=handling,
                reliability="B",
                validity="2",
                received_at=received,
                review_due=review_due or received + timedelta(days=1826),
                status=status,
                version=1,
                content_hash=hashlib.sha1(str(seq).encode()).hexdigest(),
                payload=payload,
                seq=seq,
                updated_at=received,
            )
        ).inserted_primary_key
        assert new is not None
        return int(new[0])
