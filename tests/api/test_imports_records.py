"""Upload a file, watch the import land, read its quarantine, open its records with provenance."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import CSV
from tests.api.test_foundation import assert_error


def wait_for(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/imports/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"import job {job_id} did not finish")


def upload(client: TestClient, body: bytes, source: str = "rms1", name: str = "people.csv") -> dict[str, Any]:
    r = client.post(
        f"/api/v1/imports?source={source}&filename={name}",
        content=body,
        headers={"content-type": "application/octet-stream"},
    )
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


def test_upload_import_quarantine_and_records(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    job = wait_for(client, upload(client, CSV.encode())["id"])
    assert job["status"] == "partial", job
    assert job["report"]["stored"] == 3 and job["report"]["rejected"] >= 1
    batch_id = job["batch_id"]

    batch = client.get(f"/api/v1/imports/{batch_id}").json()
    assert batch["source"] == "rms1" and batch["rows_stored"] == 3 and batch["user"] == "ana"
    assert batch["file_name"] == "people.csv"
    quarantined = client.get(f"/api/v1/imports/{batch_id}/quarantine").json()["items"]
    assert quarantined and all(q["reason"] for q in quarantined)
    assert client.get("/api/v1/imports").json()["items"][0]["id"] == batch_id

    listed = client.get("/api/v1/records?limit=1").json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    following = client.get(f"/api/v1/records?limit=1&cursor={listed['next_cursor']}").json()
    assert following["items"][0]["id"] > listed["items"][0]["id"]
    record_id = following["items"][0]["id"]
    # A record view states its purpose; without one the policy refuses.
    assert_error(client.get(f"/api/v1/records/{record_id}"), 403, "purpose_required")
    record = client.get(f"/api/v1/records/{record_id}?purpose=case 24-001").json()
    assert record["provenance"]["source"] == "rms1"
    assert record["provenance"]["batch_id"] == batch_id
    assert record["caveat"].startswith("TLP:")
    assert {e["schema"] for e in record["entities"]} >= {"Person", "Incident"}

    # The same file changed: a new version, the old one kept in the history.
    changed = CSV.replace("SMITH, JOHN", "SMITH, JOHN A").encode()
    assert wait_for(client, upload(client, changed)["id"])["report"]["updated"] == 1
    items = client.get("/api/v1/records").json()["items"]
    versions = [
        client.get(f"/api/v1/records/{i['id']}", headers={"X-Purpose": "data quality review"}).json() for i in items
    ]
    assert any(v["version"] == 2 and len(v["versions"]) == 1 for v in versions)


def test_import_permissions(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    batch_id = wait_for(client, upload(client, CSV.encode())["id"])["batch_id"]
    # Another agency's analyst may neither import into PD1's source nor see its imports.
    client = login("bob")
    r = client.post("/api/v1/imports?source=rms1&filename=x.csv", content=b"id\n1\n")
    assert_error(r, 403, "access_denied")
    assert_error(client.get(f"/api/v1/imports/{batch_id}"), 404)
    assert_error(client.get(f"/api/v1/imports/{batch_id}/quarantine"), 404)
    assert client.get("/api/v1/imports").json()["items"] == []
    assert_error(client.post("/api/v1/imports?source=nope&filename=x.csv", content=b"x"), 404)
    # Auditors and field users import nothing.
    for name in ("aud", "fld"):
        assert_error(login(name).post("/api/v1/imports?source=rms1&filename=x.csv", content=b"x"), 403)
    # The privacy officer sees every agency's imports.
    assert login("po").get(f"/api/v1/imports/{batch_id}").status_code == 200


def test_records_follow_the_policy(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    wait_for(client, upload(client, CSV.encode())["id"])
    first = client.get("/api/v1/records").json()["items"][0]["id"]
    # rms sources share with law enforcement; an auditor does not read records at all.
    auditor = login("aud")
    assert_error(auditor.get(f"/api/v1/records/{first}?purpose=compliance audit"), 404)
    assert auditor.get("/api/v1/records").json()["items"] == []
    assert_error(login("ana").get("/api/v1/records/999999?purpose=case 24-001"), 404, "not_found")


def test_upload_size_limit(login: Callable[[str], TestClient], store: Any) -> None:
    client = login("ana")
    limit = store.settings.max_upload_bytes
    r = client.post(
        "/api/v1/imports?source=rms1&filename=big.csv",
        content=b"",
        headers={"content-length": str(limit + 1), "content-type": "application/octet-stream"},
    )
    assert_error(r, 413, "body_too_large")
