"""``/api/v1/disseminations``: releases, the log, emergency assessments and their review."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from fusionhub.policy.dissemination import record_agreement
from fusionhub.policy.submission import SubmissionBasis, submit_record
from fusionhub.store import Store
from tests import factories
from tests.api.test_foundation import assert_error
from tests.policy.conftest import make_record, make_source
from tests.weblogin import auth

SCOPES = ["records:read", "export", "audit:read"]
NARRATIVE = "Subject keeps a stockpile of stolen rifles in the blue shed behind 14 Larch Road for resale."
ASSESSMENT = "We assess that a person in our holdings intends to fire on staff at the depot this evening."


def bearer(store: Store, name: str, roles: tuple[str, ...], agency: str = "PD1") -> dict[str, str]:
    factories.user(store, name, agency, roles)
    return {"authorization": f"Bearer {auth.create_api_token(store, name, SCOPES, timedelta(hours=1))}"}


def test_release_log_emergency_and_review(app_client: TestClient, store: Store) -> None:
    make_source(store, "intel", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    rms = make_source(store, "rms", "PD1", {})
    ana, sue, aud = bearer(store, "ana", ("analyst",)), bearer(store, "sue", ("supervisor",)), bearer(store, "aud", ("auditor",))  # fmt: skip
    ci = submit_record(
        store,
        factories.user(store, "ana2"),
        "intel",
        "criminal-intelligence",
        SubmissionBasis("Informant B2 reports the subject sells stolen rifles from a shed.", "weapons-trafficking"),
        persons=["Otto Fence"],
        narrative=NARRATIVE,
    )
    incident = make_record(store, rms, name="Jane Roe")
    factories.agency(store, "PD2")
    release: dict[str, Any] = {"record_ids": [incident], "recipient_agency": "PD2", "recipient_person": "Det. Kim", "reason": "joint case 24-001"}  # fmt: skip
    # No participation agreement yet: refused in the one error shape, without content.
    refused = app_client.post("/api/v1/disseminations", json=release, headers=ana)
    error = assert_error(refused, 403, "access_denied")
    assert "participation agreement" in str(error["message"]) and "Jane" not in refused.text
    assert_error(app_client.post("/api/v1/disseminations", json={**release, "recipient_agency": "NOPE"}, headers=ana), 404)  # fmt: skip
    record_agreement(store, None, "PD2", date(2099, 1, 1), "MOU 7", by="test")
    done = app_client.post("/api/v1/disseminations", json=release, headers=ana)
    assert done.status_code == 201, done.text
    assert done.json()["records"][0]["caveat"].startswith("TLP:")
    log = app_client.get("/api/v1/disseminations", headers=aud).json()
    assert [(i["record_id"], i["recipient_person"]) for i in log["items"]] == [(incident, "Det. Kim")]
    assert_error(app_client.get("/api/v1/disseminations", headers=ana), 403, "role_required")
    # Criminal intelligence to a non-law-enforcement agency: only as an emergency assessment.
    factories.agency(store, "FIRE", "fire-ems")
    record_agreement(store, None, "FIRE", date(2099, 1, 1), "MOU 8", by="test")
    to_fire = {**release, "record_ids": [ci], "recipient_agency": "FIRE"}
    assert "emergency assessment" in assert_error(app_client.post("/api/v1/disseminations", json=to_fire, headers=ana), 403)["message"]  # fmt: skip
    emergency: dict[str, Any] = {
        "record_ids": [ci],
        "assessment": ASSESSMENT,
        "danger": "life",
        "justification": "shots planned tonight at the depot",
        "supervisor": "sue",
        "recipient_person": "Chief Ray",
        "recipient_organization": "City Fire Department",
    }
    raw = app_client.post("/api/v1/disseminations/emergency", json={**emergency, "assessment": NARRATIVE}, headers=ana)
    assert "never the record" in assert_error(raw, 403, "access_denied")["message"] and "Larch" not in raw.text
    attached = app_client.post("/api/v1/disseminations/emergency", json={**emergency, "record": {"narrative": NARRATIVE}}, headers=ana)  # fmt: skip
    assert_error(attached, 422)  # nothing can be attached to an assessment
    assert_error(app_client.post("/api/v1/disseminations/emergency", json={**emergency, "supervisor": "ana"}, headers=ana), 409)  # fmt: skip
    made = app_client.post("/api/v1/disseminations/emergency", json=emergency, headers=ana)
    assert made.status_code == 201, made.text
    release_id = made.json()["id"]
    queue = app_client.get("/api/v1/disseminations/reviews", headers=sue).json()
    assert [r["id"] for r in queue] == [release_id] and queue[0]["review_status"] == "open"
    review = {"outcome": "upheld", "note": "the danger was real"}
    url = f"/api/v1/disseminations/emergency/{release_id}/review"
    assert_error(app_client.post(url, json=review, headers=ana), 403, "role_required")
    assert app_client.post(url, json=review, headers=sue).json()["review_status"] == "upheld"
    assert_error(app_client.post(url, json=review, headers=sue), 409, "conflict")
    assert app_client.get("/api/v1/disseminations/reviews", headers=sue).json() == []
    listed = app_client.get("/api/v1/disseminations/emergency", headers=aud).json()
    assert [(r["id"], r["reviewed_by"]) for r in listed] == [(release_id, "sue")]
    report = app_client.get("/api/v1/compliance/report", headers=aud).json()
    assert report["emergency_releases"]["total"] == 1 and report["emergency_releases"]["reviews_open"] == 0
