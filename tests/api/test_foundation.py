"""The API's foundation over a real store: errors, authentication, CSRF, size limits, headers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.weblogin import PASSWORD, code


def assert_error(response: object, status: int, error_code: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if error_code:
        assert body["error"]["code"] == error_code
    return body["error"]  # type: ignore[no-any-return]


def test_unauthenticated_requests_get_401_in_the_error_shape(app_client: TestClient, world: dict[str, str]) -> None:
    for path in ("/api/v1/sources", "/api/v1/records/1", "/api/v1/users", "/api/v1/imports", "/api/v1/auth/me"):
        assert_error(app_client.get(path), 401, "not_authenticated")


def test_unknown_path_and_bad_values_use_the_error_shape(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    assert_error(client.get("/api/v1/nowhere"), 404, "not_found")
    error = assert_error(client.get("/api/v1/records/not-a-number"), 422, "invalid_request")
    assert error["details"]
    assert_error(client.get("/api/v1/records?cursor=%%%"), 400, "bad_cursor")


def test_login_failures(app_client: TestClient, world: dict[str, str]) -> None:
    wrong = app_client.post("/api/v1/auth/login", json={"username": "ana", "password": "nope", "totp_code": "000000"})
    assert_error(wrong, 401)
    no_code = app_client.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    assert_error(no_code, 401)
    assert "fh_session" not in app_client.cookies


def test_session_cookie_is_secure_httponly_strict(app_client: TestClient, world: dict[str, str]) -> None:
    r = app_client.post(
        "/api/v1/auth/login", json={"username": "ana", "password": PASSWORD, "totp_code": code(world["ana"])}
    )
    assert r.status_code == 200
    cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in cookies if c.startswith("fh_session="))
    lowered = session.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=strict" in lowered
    me = app_client.get("/api/v1/auth/me").json()
    assert me["username"] == "ana" and me["roles"] == ["analyst"]


def test_cookie_writes_need_the_csrf_token(login: Callable[[str], TestClient]) -> None:
    client = login("root")
    token = client.headers.pop("x-csrf-token")
    refused = client.post("/api/v1/agencies", json={"code": "PD9"})
    assert_error(refused, 403, "csrf_failed")
    client.headers["x-csrf-token"] = token
    assert client.post("/api/v1/agencies", json={"code": "PD9"}).status_code == 201


def test_bearer_tokens_are_scoped(login: Callable[[str], TestClient], app_client: TestClient) -> None:
    client = login("ana")
    assert_error(client.post("/api/v1/auth/tokens", json={"scopes": ["everything"]}), 422, "invalid_request")
    r = client.post("/api/v1/auth/tokens", json={"scopes": ["records:read"], "expires_in": 3600})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    client.cookies.clear()
    client.headers.pop("x-csrf-token")
    bearer = {"Authorization": f"Bearer {token}"}
    assert app_client.get("/api/v1/sources", headers=bearer).status_code == 200
    assert app_client.get("/api/v1/records", headers=bearer).status_code == 200
    # Out of scope, or a token trying to act for the account (make more tokens): refused.
    assert_error(app_client.post("/api/v1/imports?source=rms1&filename=a.csv", content=b"x", headers=bearer), 401)
    assert_error(app_client.post("/api/v1/auth/tokens", json={"scopes": ["records:read"]}, headers=bearer), 403)
    assert_error(app_client.get("/api/v1/sources", headers={"Authorization": "Bearer forged"}), 401)


def test_roles_guard_administration(login: Callable[[str], TestClient], world: World) -> None:
    world.everyone()
    for name in ("ana", "aud", "fld"):
        client = login(name)
        assert_error(client.get("/api/v1/users"), 403, "role_required")
        assert_error(client.post("/api/v1/agencies", json={"code": "X1"}), 403, "role_required")
    client = login("root")
    users = client.get("/api/v1/users?limit=2").json()
    assert len(users["items"]) == 2 and users["next_cursor"]
    rest = client.get(f"/api/v1/users?limit=100&cursor={users['next_cursor']}").json()
    names = [u["username"] for u in users["items"] + rest["items"]]
    assert sorted(names) == ["ana", "aud", "bob", "fld", "po", "root"]
    assert rest["next_cursor"] is None


def test_body_size_limit(login: Callable[[str], TestClient]) -> None:
    client = login("root")
    big = {"code": "X" * 10, "name": "n" * (2 * 1024 * 1024)}
    error = assert_error(client.post("/api/v1/agencies", json=big), 413, "body_too_large")
    assert error["details"] == {"limit": 1024 * 1024}


def test_security_headers(app_client: TestClient, world: dict[str, str]) -> None:
    r = app_client.get("/login")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_openapi_lists_every_route_with_error_responses(app_client: TestClient) -> None:
    spec = app_client.get("/api/v1/openapi.json").json()
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            if path != "/api/v1/auth/login":
                assert {"401", "403", "422"} <= statuses, (method, path)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)


def test_logout_ends_the_session_at_once(login: Callable[[str], TestClient]) -> None:
    client = login("ana")
    assert client.get("/api/v1/auth/me").status_code == 200  # now cached as checked
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert_error(client.get("/api/v1/auth/me"), 401)
