"""Record views and person searches need a stated purpose, kept with the audit event."""

from __future__ import annotations

import pytest

from fusionhub.policy.audit import query
from fusionhub.policy.reader import PurposeRequired, RecordReader, check_purpose
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import make_record, make_source


def test_purpose_forms() -> None:
    assert check_purpose("case 24-001") == "case 24-001"
    assert check_purpose("24-00017") == "24-00017"
    assert check_purpose("Threat Assessment") == "threat assessment"
    for bad in (None, "", "   ", "curious", "just looking at my ex"):
        with pytest.raises(PurposeRequired):
            check_purpose(bad)


def test_view_and_person_search_need_purpose_and_keep_it(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src)
    ana = factories.user(store, "ana")
    auditor = factories.user(store, "aud", roles=("auditor",))
    with pytest.raises(PurposeRequired):
        RecordReader(store, ana).get(rid)
    with pytest.raises(PurposeRequired):
        RecordReader(store, ana, "curious").list(query="Jane Roe", person=True)
    assert RecordReader(store, ana, "case 24-001").get(rid).id == rid
    found = RecordReader(store, ana, "officer safety").list(query="Jane Roe", person=True)
    assert [v.id for v in found] == [rid]
    events = query(store, auditor, record_id=rid)
    assert [(e.action, e.purpose) for e in events] == [
        ("access.denied", None),  # the attempt without a purpose is kept too
        ("record.view", "case 24-001"),
        ("search", "officer safety"),
    ]
    refusals = query(store, auditor, user="ana", action="access.denied")
    assert len(refusals) == 2
