"""28 CFR Part 23 retention: review queue, validation, purge from every read path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fusionhub.model.types import InvalidValue
from fusionhub.policy import retention
from fusionhub.policy.audit import query, verify
from fusionhub.policy.dissemination import disseminate
from fusionhub.policy.reader import NotFound, RecordReader
from fusionhub.policy.submission import SubmissionBasis, submit_record
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t
from tests import factories
from tests.policy.conftest import T0, make_source

BASIS = SubmissionBasis(
    "Informant B2 reports the subject stores stolen catalytic converters at a garage for resale.",
    "property-crime",
)


def _ci(store: Store) -> tuple[int, object, object]:
    make_source(store, "intel", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    ana = factories.user(store, "ana")
    sup = factories.user(store, "sue", roles=("supervisor",))
    rid = submit_record(store, ana, "intel", "criminal-intelligence", BASIS, persons=["Otto Fence"], now=T0)
    return rid, ana, sup


def test_review_date_is_five_years_and_queue_shows_it(store: Store) -> None:
    rid, ana, _ = _ci(store)
    view = RecordReader(store, ana, "case 24-001").get(rid)  # type: ignore[arg-type]
    assert view.review_due.startswith("2031-01-05")
    assert view.predicate is not None and view.predicate["criminal_activity"] == "property-crime"
    assert retention.review_queue(store, ana, now=T0) == []  # type: ignore[arg-type]
    due = retention.review_queue(store, ana, now=T0 + timedelta(days=5 * 365 - 30))  # type: ignore[arg-type]
    assert [i.record_id for i in due] == [rid] and not due[0].overdue
    assert due[0].criminal_activity == "property-crime"


def test_unvalidated_record_is_purged_from_every_read_path(store: Store) -> None:
    rid, ana, sup = _ci(store)
    factories.agreement(store, "PD2")
    disseminate(store, ana, [rid], "PD2", "Det. Kim", "joint case 24-001", now=T0 + timedelta(days=10))  # type: ignore[arg-type]
    reader = RecordReader(store, ana, "case 24-001")  # type: ignore[arg-type]
    assert reader.count() == 1
    # Running early does nothing.
    assert retention.run(store, sup, now=T0 + timedelta(days=365)).purged == []  # type: ignore[arg-type]
    later = T0 + timedelta(days=5 * 366)
    report = retention.run(store, sup, now=later)  # type: ignore[arg-type]
    assert report.purged == [rid]
    assert retention.run(store, sup, now=later).purged == []  # idempotent: safe from cron
    with pytest.raises(NotFound) as gone:
        reader.get(rid)
    assert str(gone.value) == f"no record {rid} that you may see"
    assert reader.list(limit=100) == [] and reader.count() == 0
    assert retention.review_queue(store, ana, now=later) == []  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        disseminate(store, ana, [rid], "PD2", "Det. Kim", "again")  # type: ignore[arg-type]
    with store.connect() as conn:
        row = conn.execute(select(t.record).where(t.record.c.id == rid)).one()
        assert row.status == "purged" and row.payload == {}
        assert conn.execute(select(func.count()).select_from(pt.criminal_predicate)).scalar_one() == 0
        notices = conn.execute(select(pt.correction_notice.c.kind, pt.correction_notice.c.target)).all()
        assert [(n.kind, n.target) for n in notices] == [("purge", "agency:PD2")]
    log = retention.purge_log(store, sup)  # type: ignore[arg-type]
    assert len(log) == 1 and log[0]["record_id"] == rid and log[0]["purged_by"] == "sue"
    assert "not validated" in log[0]["reason"] and "Otto" not in str(log)
    auditor = factories.user(store, "aud", roles=("auditor",))
    assert any(e.action == "retention.purge" for e in query(store, auditor, record_id=rid))
    assert verify(store).ok


def test_validation_extends_five_years_with_justification(store: Store) -> None:
    rid, ana, sup = _ci(store)
    with pytest.raises(InvalidValue):
        retention.validate(store, sup, rid, "ok", now=T0 + timedelta(days=4 * 365))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="supervisors and privacy officers"):
        retention.validate(store, ana, rid, "active investigation 24-001", now=T0)  # type: ignore[arg-type]
    year4 = T0 + timedelta(days=4 * 365)
    new_due = retention.validate(store, sup, rid, "active investigation 24-001", now=year4)  # type: ignore[arg-type]
    assert new_due.year == year4.year + 5
    assert retention.run(store, sup, now=T0 + timedelta(days=5 * 366)).purged == []  # type: ignore[arg-type]
    assert retention.run(store, sup, now=year4 + timedelta(days=5 * 366)).purged == [rid]  # type: ignore[arg-type]
    with store.connect() as conn:
        review = conn.execute(select(pt.record_review)).one()
    assert review.reviewer == "sue" and review.justification == "active investigation 24-001"


def test_other_classes_follow_their_retention_period(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    from tests.policy.conftest import make_record

    old = make_record(store, src, review_due=T0 + timedelta(days=10))
    keep = make_record(store, src, review_due=T0 + timedelta(days=1000))
    sup = factories.user(store, "sue", roles=("supervisor",))
    report = retention.run(store, sup, now=T0 + timedelta(days=11))  # type: ignore[arg-type]
    assert report.purged == [old]
    assert RecordReader(store, sup, "retention review").count() == 1  # type: ignore[arg-type]
    assert keep
