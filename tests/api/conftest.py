"""An app over a real store with accounts of each kind, and clients logged in as them."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fusionhub.api import create_app
from fusionhub.store import Store
from tests import factories
from tests.weblogin import account, session

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


#: The accounts of the tests: name -> (roles, agency). Made on first use (argon2 is slow on purpose).
ACCOUNTS: dict[str, tuple[tuple[str, ...], str]] = {
    "ana": (("analyst",), "PD1"),
    "root": (("administrator",), "PD1"),
    "aud": (("auditor",), "PD1"),
    "po": (("privacy-officer",), "PD1"),
    "bob": (("analyst",), "PD2"),
    "fld": (("field-user",), "PD1"),
}


class World(dict[str, str]):
    """Agencies PD1 (with source rms1) and PD2; ``world[name]`` is the account's TOTP secret."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def __missing__(self, name: str) -> str:
        roles, agency_code = ACCOUNTS[name]
        secret = account(self.store, name, roles, agency_code)
        self[name] = secret
        return secret

    def everyone(self) -> None:
        for name in ACCOUNTS:
            self[name]


@pytest.fixture
def world(store: Store, tmp_path: Path) -> World:
    profile = tmp_path / "people.yaml"
    profile.write_text(PROFILE)
    factories.source(store, "rms1", "PD1", profile=str(profile))
    factories.agency(store, "PD2")
    return World(store)


@pytest.fixture
def app_client(store: Store) -> Iterator[TestClient]:
    app = create_app(store)
    # https: the session cookies are Secure, and a client only returns them over TLS.
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def login(app_client: TestClient, world: World, store: Store) -> Callable[[str], TestClient]:
    """``login("ana")`` gives the shared client ana's session cookie and the CSRF header for writes."""

    def as_user(name: str) -> TestClient:
        app_client.cookies.clear()
        csrf = secrets.token_urlsafe(16)
        app_client.cookies.set("fh_session", session(store, name, world[name]), domain="testserver.local")
        app_client.cookies.set("fh_csrf", csrf, domain="testserver.local")
        app_client.headers["x-csrf-token"] = csrf
        return app_client

    return as_user
