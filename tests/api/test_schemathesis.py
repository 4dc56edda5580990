"""Property-based API robustness: Schemathesis generates requests from the OpenAPI
document and checks every answer (no 500, status and body as documented), logged in
as a user who holds every role; and every operation refuses callers without credentials."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fusionhub.api import create_app
from fusionhub.store import Store
from tests.api.conftest import ACCOUNTS, World
from tests.weblogin import session

#: Operations whose bodies are validated beyond their JSON Schema (see the 422 they document).
CHECKED_BEYOND_SCHEMA = {("POST", "/api/v1/policy/versions"), ("PUT", "/api/v1/users/{username}/training")}


@pytest.fixture
def api_app(store: Store, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    # An account with every role, for this module only (other modules count the accounts).
    monkeypatch.setitem(
        ACCOUNTS, "all", (("analyst", "administrator", "auditor", "privacy-officer", "supervisor"), "PD1")
    )
    world["all"]
    yield create_app(store)


@pytest.fixture
def credentials(store: Store, world: World) -> dict[str, Any]:
    csrf = secrets.token_urlsafe(16)
    return {
        "cookies": {"fh_session": session(store, "all", world["all"]), "fh_csrf": csrf},
        "headers": {"x-csrf-token": csrf},
    }


def test_api_conforms_to_its_openapi_document(api_app: FastAPI, credentials: dict[str, Any]) -> None:
    # Schemathesis' pytest plugin does not load under pytest 9, so each operation's
    # strategy is driven with Hypothesis directly; the checks are Schemathesis' own.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue  # ending the shared session would log the next examples out

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            # A made-up cursor is the client's error (400), though any string fits the schema.
            # Likewise a schema-valid body whose value is checked beyond what JSON Schema can
            # say (a policy's YAML, a training date not in the future) may answer 422.
            semantic = (case.method.upper(), case.path) in CHECKED_BEYOND_SCHEMA
            excluded = [positive_data_acceptance] if "cursor" in (case.query or {}) or semantic else []
            case.call_and_validate(
                headers=dict(credentials["headers"]), cookies=dict(credentials["cookies"]), excluded_checks=excluded
            )

        run()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 15, tested


def test_no_operation_is_reachable_without_credentials(api_app: FastAPI, login: Callable[[str], TestClient]) -> None:
    spec = TestClient(api_app).get("/api/v1/openapi.json").json()
    client = TestClient(api_app, base_url="https://testserver", raise_server_exceptions=False)
    checked = 0
    for path, operations in spec["paths"].items():
        for method in operations:
            if path == "/api/v1/auth/login":
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method.upper(), url)
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 15


def _with_nul(value: Any) -> Any:
    """``value`` with a NUL character in every text it holds (keys kept)."""
    if isinstance(value, str):
        return value[:1] + "\x00" + value[1:]
    if isinstance(value, list):
        return [_with_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_nul(v) for k, v in value.items()}
    return value


def test_a_nul_in_any_text_is_refused_never_a_crash(api_app: FastAPI, credentials: dict[str, Any]) -> None:
    # PostgreSQL text cannot hold U+0000: a NUL that reached a statement raised there (a 500
    # on PostgreSQL, a plain miss on SQLite). Every text of every operation gets one here.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)
    client = TestClient(api_app, base_url="https://testserver", raise_server_exceptions=False)
    client.cookies.update(credentials["cookies"])
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/auth/logout":
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            nonlocal tried
            path = case.path
            for name, value in (case.path_parameters or {}).items():
                path = path.replace("{" + name + "}", quote(str(_with_nul(value)), safe=""))
            body = case.body if isinstance(case.body, dict | list) else None
            # A file upload keeps its bytes (what a connector makes of them is tests/ingest's).
            content = case.body if isinstance(case.body, bytes) else None
            response = client.request(
                case.method.upper(),
                path,
                params=_with_nul(case.query or {}),
                json=_with_nul(body) if body is not None else None,
                content=content,
                headers=dict(credentials["headers"]),
            )
            tried += 1
            if response.status_code >= 500:
                failures.append(f"{case.method.upper()} {path} {case.query} {body!r:.200}: {response.status_code}")

        run()
    assert tried >= 40
    assert not failures, "\n".join(failures)
