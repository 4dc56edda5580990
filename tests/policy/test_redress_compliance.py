"""Redress requests and the compliance report."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.model.types import InvalidValue
from fusionhub.policy import compliance
from fusionhub.policy.dissemination import disseminate
from fusionhub.policy.reader import AccessDenied, NotFound, RecordReader
from fusionhub.policy.redress import correction_notices, decide_request, register_citation_finder, request_correction
from fusionhub.policy.retention import run
from fusionhub.policy.submission import FirstAmendmentRefused, SubmissionBasis, submit_record
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import T0, make_record, make_source


def test_correction_keeps_history_and_flags_what_cited_it(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src, name="Jon Smiht")
    field = factories.user(store, "fay", "PD2", roles=("analyst",))
    factories.agreement(store, "PD3")
    owner_sup = factories.user(store, "sue", roles=("supervisor",))
    other_sup = factories.user(store, "sam", "PD2", roles=("supervisor",))
    reader = RecordReader(store, owner_sup, "data quality review")
    entity = reader.get(rid).payload["entities"][0]["id"]
    disseminate(store, owner_sup, [rid], "PD3", "Sgt. Lee", "case 24-001")
    register_citation_finder("test-products", lambda conn, record_id: [f"product:7#{record_id}"])
    try:
        with pytest.raises(InvalidValue):
            request_correction(store, field, rid, "wrong", entity_id="nope", prop="name", proposed_value="x")
        request_id = request_correction(
            store, field, rid, "name misspelt in RMS", entity_id=entity, prop="name", proposed_value="Jon Smith"
        )
        assert reader.get(rid).disputed
        with pytest.raises(AccessDenied, match="owning agency"):
            decide_request(store, other_sup, request_id, True, "looks right to me")
        decided = decide_request(store, owner_sup, request_id, True, "checked against booking photo ID")
        assert decided.status == "accepted"
        view = reader.get(rid)
        assert not view.disputed and view.version == 2
        assert view.payload["entities"][0]["properties"]["name"] == ["Jon Smith"]
        assert view.versions[0]["payload"]["entities"][0]["properties"]["name"] == ["Jon Smiht"]
        assert view.to_json()["corrections"][0]["old"] == ["Jon Smiht"]
        notices = {(n["kind"], n["target"]) for n in correction_notices(store, rid)}
        assert notices == {("dissemination", "agency:PD3"), ("citation", f"product:7#{rid}")}
        with pytest.raises(InvalidValue):
            decide_request(store, owner_sup, request_id, False, "second decision")
    finally:
        from fusionhub.policy.redress import CITATION_FINDERS

        CITATION_FINDERS.pop("test-products", None)


def test_redress_needs_read_access(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {"agency_only": True})
    rid = make_record(store, src)
    outsider = factories.user(store, "out", "PD2")
    with pytest.raises(NotFound):
        request_correction(store, outsider, rid, "this is wrong")


def test_compliance_report_counts_and_formats(store: Store, tmp_path: object) -> None:
    src = make_source(store, "rms", "PD1", {})
    make_source(store, "sar-in", "PD1", {}, kind="sar-intake")
    rid = make_record(store, src, review_due=T0)
    ana = factories.user(store, "ana")
    sup = factories.user(store, "sue", roles=("supervisor",))
    privacy = factories.user(store, "pat", roles=("privacy-officer",))
    from fusionhub.policy.identity import set_training

    factories.user(store, "old", roles=("field-user",))
    set_training(store, "old", T0 - timedelta(days=400))
    RecordReader(store, ana, "case 24-001").get(rid)
    with pytest.raises(AccessDenied):
        RecordReader(store, ana).get(rid)
    with pytest.raises(FirstAmendmentRefused):
        submit_record(
            store,
            ana,
            "sar-in",
            "sar",
            SubmissionBasis("They attend the rally every week at the plaza.", None, ["assembly"]),
        )
    request_correction(store, ana, rid, "wrong date")
    run(store, sup)
    with pytest.raises(AccessDenied):
        compliance.build_report(store, ana)
    report = compliance.build_report(store, privacy)
    assert {"role": "analyst", "agency": "PD1", "count": 1} in report["accesses_by_role_and_agency"]
    assert report["denials"] == {"access.denied": 1, "submission.refused": 1}
    assert report["records_purged"] == {"incident": 1}
    assert report["users_with_lapsed_training"] == ["old"]
    assert report["first_amendment_refusals"] == 1
    assert report["redress_requests"] == {"open": 1}
    assert report["audit_chain"]["ok"] is True
    assert "Jane" not in json.dumps(report)
    parsed = list(csv.reader(io.StringIO(compliance.to_csv(report))))
    assert parsed[0] == ["section", "item", "value"] and ["first_amendment_refusals", "", "1"] in parsed
    assert compliance.to_pdf(report).startswith(b"%PDF")
    result = CliRunner().invoke(app, ["--store", store.url, "--as", "pat", "compliance", "report", "--format", "csv"])
    assert result.exit_code == 0 and "users_with_lapsed_training" in result.output
