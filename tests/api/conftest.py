"""An app over a real store with accounts of each kind, and clients logged in as them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fusionhub.api import create_app
from fusionhub.store import Store
from tests import factories
from tests.weblogin import PASSWORD, account, code

PROFILE = """
name: people
format: csv
record:
  id: "{id}"
  occurred: incident.occurredAt
entities:
  person:
    schema: Person
    properties:
      name: {column: name, parse: last_first}
      birthDate: {column: dob, format: "%m/%d/%Y"}
  incident:
    schema: Incident
    properties:
      caseNumber: {column: id, required: true}
      occurredAt: {column: when, format: "%Y-%m-%d %H:%M"}
"""
CSV = (
    "id,name,dob,when\n"
    '1,"SMITH, JOHN",04/09/1981,2024-01-02 10:00\n'
    '2,"DOE, JANE",12/31/1990,2024-01-03 11:30\n'
    '3,"ROE, RICHARD",99/99/1990,2024-01-04 09:00\n'
    ",,,\n"
)


@pytest.fixture
def world(store: Store, tmp_path: Path) -> dict[str, str]:
    """Agencies PD1 (with source rms1) and PD2, and one account per role; name -> TOTP secret."""
    profile = tmp_path / "people.yaml"
    profile.write_text(PROFILE)
    factories.source(store, "rms1", "PD1", profile=str(profile))
    factories.agency(store, "PD2")
    return {
        "ana": account(store, "ana", ("analyst",)),
        "root": account(store, "root", ("administrator",)),
        "aud": account(store, "aud", ("auditor",)),
        "po": account(store, "po", ("privacy-officer",)),
        "bob": account(store, "bob", ("analyst",), "PD2"),
        "fld": account(store, "fld", ("field-user",)),
    }


@pytest.fixture
def app_client(store: Store) -> Iterator[TestClient]:
    app = create_app(store)
    # https: the session cookies are Secure, and a client only returns them over TLS.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def login(app_client: TestClient, world: dict[str, str]) -> Callable[[str], TestClient]:
    """``login("ana")`` logs the shared client in as ana and sets the CSRF header for writes."""

    def as_user(name: str) -> TestClient:
        app_client.cookies.clear()
        app_client.headers.pop("x-csrf-token", None)
        r = app_client.post(
            "/api/v1/auth/login", json={"username": name, "password": PASSWORD, "totp_code": code(world[name])}
        )
        assert r.status_code == 200, r.text
        app_client.headers["x-csrf-token"] = r.json()["csrf_token"]
        return app_client

    return as_user
