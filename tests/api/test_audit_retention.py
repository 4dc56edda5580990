"""Audit query and verify, and the retention queue, over HTTP with their role checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import CSV
from tests.api.test_foundation import assert_error
from tests.api.test_imports_records import upload, wait_for


def test_audit_shows_who_viewed_a_record_and_the_chain_verifies(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    wait_for(client, upload(client, CSV.encode())["id"])
    record_id = client.get("/api/v1/records").json()["items"][0]["id"]
    assert client.get(f"/api/v1/records/{record_id}?purpose=case 24-007").status_code == 200
    assert_error(client.get("/api/v1/audit/events"), 403, "role_required")
    assert_error(client.get("/api/v1/audit/verify"), 403, "role_required")

    auditor = login("aud")
    events = auditor.get(f"/api/v1/audit/events?record_id={record_id}").json()["items"]
    views = [e for e in events if e["action"] == "record.view"]
    assert views and views[-1]["username"] == "ana" and views[-1]["purpose"] == "case 24-007"
    first = auditor.get("/api/v1/audit/events?user=ana&limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = auditor.get(f"/api/v1/audit/events?user=ana&limit=2&cursor={first['next_cursor']}").json()
    assert second["items"][0]["id"] > first["items"][1]["id"]
    chain = auditor.get("/api/v1/audit/verify").json()
    assert chain["ok"] is True and chain["events"] > 0


def test_retention_queue_roles(login: Callable[[str], TestClient]) -> None:
    assert login("po").get("/api/v1/retention/queue?within_days=3650").status_code == 200
    for name in ("ana", "aud", "fld"):
        assert_error(login(name).get("/api/v1/retention/queue"), 403, "role_required")
    client = login("po")
    r = client.post("/api/v1/retention/999999/validate", json={"justification": "still part of case 24-001"})
    assert_error(r, 404)
    assert_error(client.post("/api/v1/retention/1/validate", json={"justification": "short"}), 422)


def test_redress_and_compliance(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    wait_for(client, upload(client, CSV.encode())["id"])
    record_id = client.get("/api/v1/records").json()["items"][0]["id"]
    filed = client.post("/api/v1/redress", json={"record_id": record_id, "reason": "wrong date of birth"})
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "open"
    assert [r["id"] for r in client.get("/api/v1/redress").json()] == [filed.json()["id"]]
    assert_error(client.get("/api/v1/compliance/report"), 403, "role_required")
    report = login("po").get("/api/v1/compliance/report").json()
    assert report["audit_chain"]["ok"] is True
    assert report["redress_requests"]
    csv = login("aud").get("/api/v1/compliance/report.csv")
    assert csv.status_code == 200 and csv.text.startswith("section,item,value")
