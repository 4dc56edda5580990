"""The fast lane of search and record view (``fusionhub.api.fast_reads``) answers exactly
as the documented routes do, and leaves every other request to them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionhub.api import create_app, fast_reads
from fusionhub.api.fast_reads import FastRead
from fusionhub.policy import auth
from fusionhub.store import Store
from tests.api.conftest import CSV, World
from tests.api.test_imports_records import upload, wait_for
from tests.weblogin import session


def _client(app: Any, token: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    client.cookies.set("fh_session", token, domain="testserver.local")
    csrf = secrets.token_urlsafe(16)
    client.cookies.set("fh_csrf", csrf, domain="testserver.local")
    client.headers["x-csrf-token"] = csrf
    return client


@pytest.fixture
def clients(store: Store, world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, TestClient]]:
    """(an app with the fast lane, the same app without it), one session of ana on both."""
    fast_app = create_app(store)
    with monkeypatch.context() as patch:
        patch.setattr(fast_reads, "FAST_READS", {})
        plain_app = create_app(store)
    token = session(store, "ana", world["ana"])
    with _client(fast_app, token) as fast, _client(plain_app, token) as plain:
        wait_for(fast, upload(fast, CSV.encode())["id"])
        # The first request of a session checks it through the policy (the route's way);
        # from then on the session is cached and the fast lane may answer.
        for client in (fast, plain):
            first = client.get("/api/v1/search?q=smith&purpose=case+24-001")
            assert first.status_code == 200, first.text
        yield fast, plain


def _same(fast: TestClient, plain: TestClient, target: str, **kwargs: Any) -> tuple[int, Any]:
    a, b = fast.get(target, **kwargs), plain.get(target, **kwargs)
    assert a.status_code == b.status_code, (target, a.text, b.text)
    assert a.headers.get("content-type") == b.headers.get("content-type")
    body_a = a.json() if "json" in a.headers.get("content-type", "") else a.text
    body_b = b.json() if "json" in b.headers.get("content-type", "") else b.text
    assert body_a == body_b, target
    for header in ("content-security-policy", "x-content-type-options", "cache-control"):
        assert a.headers.get(header) == b.headers.get(header), header
    return a.status_code, body_a


def test_the_hot_routes_are_wrapped_and_tried_first(clients: tuple[TestClient, TestClient]) -> None:
    fast, plain = clients
    routes = fast.app.router.routes  # type: ignore[attr-defined]
    assert [r.path for r in routes[:2]] == ["/api/v1/search", "/api/v1/records/{record_id}"]
    assert all(isinstance(r.app, FastRead) for r in routes[:2])
    assert not any(isinstance(getattr(r, "app", None), FastRead) for r in plain.app.router.routes)  # type: ignore[attr-defined]


def test_answers_equal_the_routes_answers(clients: tuple[TestClient, TestClient], store: Store) -> None:
    fast, plain = clients
    answered: list[str] = []
    for route in fast.app.router.routes[:2]:  # type: ignore[attr-defined]
        inner = route.app.answer

        def counting(*args: Any, inner: Any = inner, path: str = route.path) -> Any:
            work = inner(*args)
            if work is not None:
                answered.append(path)
            return work

        route.app.answer = counting
    status, found = _same(fast, plain, "/api/v1/search?" + urlencode({"q": "name:smith", "purpose": "case 24-001"}))
    assert status == 200 and found["total"] >= 1
    record_id = found["hits"][0]["record_id"]
    status, view = _same(fast, plain, f"/api/v1/records/{record_id}?purpose=case+24-001")
    assert status == 200 and view["id"] == record_id
    _same(fast, plain, f"/api/v1/records/{record_id}", headers={"X-Purpose": "case 24-001"})
    assert answered == ["/api/v1/search", "/api/v1/records/{record_id}", "/api/v1/records/{record_id}"]
    # Left to the route: its errors keep their shape.
    for target in (
        f"/api/v1/records/{record_id}",  # no purpose: refused and audited
        "/api/v1/records/0?purpose=x",
        "/api/v1/records/abc?purpose=x",
        "/api/v1/records/99999999999999999999?purpose=x",
        "/api/v1/search?q=smith",
        "/api/v1/search?q=&purpose=x",
        "/api/v1/search?q=smith&purpose=x&limit=0",
        "/api/v1/search?q=smith&purpose=x&limit=10&limit=20",
        "/api/v1/search?q=smith&purpose=x&sort=sideways",
        "/api/v1/search?q=smith&purpose=x&cursor=not-a-cursor",
        "/api/v1/search?q=smith&purpose=x&unknown=1",
        "/api/v1/search?q=name:(&purpose=x",
    ):
        _same(fast, plain, target)
    _same(fast, plain, "/api/v1/search?q=smith", headers={"X-Purpose": "p" * 501})
    # Those it took on are refused by the same code as on the route: a view or search with
    # no purpose (the domain), a cursor it never gave out, a query it cannot read.
    assert answered.count("/api/v1/search") == 4
    assert answered.count("/api/v1/records/{record_id}") == 3


def test_tokens_and_unchecked_sessions_go_to_the_route(clients: tuple[TestClient, TestClient], store: Store) -> None:
    fast, plain = clients
    token = auth.create_api_token(store, "ana", ["search", "records:read"], timedelta(hours=1))
    target = "/api/v1/search?q=smith&purpose=case+24-001"
    bearer = {"Authorization": f"Bearer {token}"}
    assert fast.get(target, headers=bearer).status_code == 200
    assert fast.get(target, headers={"Authorization": "Basic eDp5"}).json()["error"]["code"] == "token_invalid"
    fast.cookies.set("fh_session", "not-a-session", domain="testserver.local")
    assert fast.get(target).status_code == 401
    del plain


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "sort", "limit", "cursor", "purpose", "other"]),
        st.one_of(
            st.sampled_from(["smith", "name:doe", "", "relevance", "-received", "0", "1", "20", "201", "+5", " 7"]),
            st.text(max_size=12),
        ),
        max_size=5,
    ),
    header=st.one_of(st.none(), st.sampled_from(["case 24-001", "", "x" * 501])),
)
def test_any_search_parameters_answer_alike(
    clients: tuple[TestClient, TestClient], params: dict[str, str], header: str | None
) -> None:
    fast, plain = clients
    headers = {"X-Purpose": header} if header is not None else {}
    _same(fast, plain, "/api/v1/search?" + urlencode(params), headers=headers)
