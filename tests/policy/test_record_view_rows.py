"""A record view read on the driver's cursor equals what SQLAlchemy's result layer reads."""

from __future__ import annotations

from sqlalchemy import select

from fusionhub.policy.reader import RecordReader
from fusionhub.policy.redress import decide_request, request_correction
from fusionhub.policy.submission import SubmissionBasis, submit_record
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t
from tests import factories
from tests.policy.conftest import T0, make_record, make_source


def test_record_view_fields_equal_sqlalchemy_reading(store: Store) -> None:
    intel = make_source(store, "intel", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    assert intel
    ana = factories.user(store, "ana")
    basis = SubmissionBasis("Informant reports stolen converters kept at a garage for resale.", "property-crime")
    with_predicate = submit_record(store, ana, "intel", "criminal-intelligence", basis, persons=["Otto Fence"], now=T0)
    rms = make_source(store, "rms", "PD1", {})
    plain = make_record(store, rms, name="Jon Smiht")
    reader = RecordReader(store, ana, "case 24-001")
    entity = reader.get(plain).payload["entities"][0]["id"]
    first = request_correction(store, ana, plain, "misspelt", entity_id=entity, prop="name", proposed_value="Jon Smith")
    decide_request(store, factories.user(store, "sue", roles=("supervisor",)), first, True, "checked against ID")
    request_correction(store, ana, plain, "still wrong", entity_id=entity, prop="name", proposed_value="John Smith")

    for record_id, disputed in ((with_predicate, False), (plain, True)):
        view = reader.get(record_id)
        with store.connect() as conn:
            row = conn.execute(select(t.record).where(t.record.c.id == record_id)).one()
            versions = conn.execute(select(t.record_version).where(t.record_version.c.record_id == record_id)).all()
            predicate = conn.execute(
                select(pt.criminal_predicate).where(pt.criminal_predicate.c.record_id == record_id)
            ).first()
        assert view.disputed is disputed
        assert len(view.versions) == (1 if record_id == plain else 0)
        assert view.received_at == row.received_at.isoformat()
        assert view.review_due == row.review_due.isoformat()
        assert view.payload == row.payload
        assert (view.version, view.seq, view.status, view.tlp) == (row.version, row.seq, row.status, row.tlp)
        assert [v["received_at"] for v in view.versions] == [v.received_at.isoformat() for v in versions]
        assert [v["payload"] for v in view.versions] == [v.payload for v in versions]
        if predicate is None:
            assert view.predicate is None
        else:
            assert view.predicate == {
                "criminal_activity": predicate.criminal_activity,
                "basis": predicate.basis,
                "protected_activity": predicate.protected_activity,
                "nexus": predicate.nexus,
                "submitted_by": predicate.submitted_by,
                "submitted_at": str(predicate.submitted_at),
            }
