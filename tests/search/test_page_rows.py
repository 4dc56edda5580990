"""The page of hits read on the driver's cursor equals what SQLAlchemy reads."""

from __future__ import annotations

from sqlalchemy import select

from fusionhub.search.engine import EngineHit, EngineResult
from fusionhub.search.service import _read_page
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.search.conftest import Draft, Put, entity


def test_page_rows_equal_the_rows_sqlalchemy_reads(store: Store, put: Put) -> None:
    source = factories.source(store, "rms", "PDA", "rms", caveat="TLP:AMBER LES")
    drafts = [
        Draft(f"r{i}", [entity("Person", name=f"ALEX SMITH {i}", birthDate="1990-01-0" + str(i % 9 + 1))])
        for i in range(12)
    ]
    drafts.append(Draft("big", [entity("Person", name="BIG NUMBER", note="123456789012345678901234567890")]))
    ids = put(store, source, drafts)
    actor = factories.user(store, "ana", "PDA")
    found = EngineResult(total=len(ids), hits=[EngineHit(i, 0, 1.0) for i in ids])
    with store.connect() as conn:
        statement, page = _read_page(conn, actor, found)
        rows = {row.id: row for row in map(statement.decode, page)}
        r, s, a = t.record.c, t.source.c, t.agency.c
        expected = {
            row.id: row
            for row in conn.execute(
                select(r, s.name.label("source_name"), s.system, a.code.label("agency_code"))
                .join(t.source, s.id == r.source_id)
                .join(t.agency, a.id == r.agency_id)
                .where(r.id.in_(ids))
            )
        }
    assert set(rows) == set(ids)
    for record_id, row in rows.items():
        want = expected[record_id]
        for name in row._fields:
            assert getattr(row, name) == getattr(want, name), name
        assert row.received_at.isoformat() == want.received_at.isoformat()
