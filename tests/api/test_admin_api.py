"""Policy administration and user administration over REST, on both engines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from fusionhub.policy.rules import file_policy, set_active_policy
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from tests.api.conftest import World
from tests.api.test_foundation import assert_error

BASE = file_policy().raw
TEXT = open(file_policy().path, encoding="utf-8").read()


@pytest.fixture(autouse=True)
def back_to_the_file() -> Iterator[None]:
    yield
    set_active_policy(None)


def events(store: Store, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    e = pt.audit_event.c
    with store.connect() as conn:
        rows = conn.execute(select(e.username, e.subject, e.details).where(e.action == action).order_by(e.id)).all()
    return [(u, s, json.loads(d)) for u, s, d in rows]


# -- policy ---------------------------------------------------------------------------
def test_policy_read_by_officer_and_administrator_only(login: Callable[[str], TestClient]) -> None:
    for name in ("po", "root"):
        body = login(name).get("/api/v1/policy").json()
        assert body["id"] == 1 and body["active"] and body["stored"] is False
        assert body["text"] == TEXT
        assert {r["id"] for r in body["rules"]} == {r["id"] for r in BASE["read_rules"]}
        assert login(name).get("/api/v1/policy/versions").json()["items"][0]["id"] == 1
    for name in ("ana", "aud", "fld"):
        assert_error(login(name).get("/api/v1/policy"), 403)
        assert_error(login(name).get("/api/v1/policy/versions"), 403)


def test_policy_submission_validates_dry_runs_and_activates(login: Callable[[str], TestClient], store: Store) -> None:
    po = login("po")
    bad = po.post("/api/v1/policy/versions", json={"text": TEXT + "colour: red\n", "activate": True, "note": "x"})
    error = assert_error(bad, 422, "policy_invalid")
    assert any("unknown section 'colour'" in p for p in error["details"]["problems"])  # type: ignore[index]
    assert po.get("/api/v1/policy").json()["id"] == 1

    rules = [r for r in BASE["read_rules"] if r["id"] != "tlp-red"]
    new = yaml.safe_dump({**BASE, "read_rules": rules}, sort_keys=False)
    dry = po.post("/api/v1/policy/versions", json={"text": new})
    assert dry.status_code == 200, dry.text
    assert dry.json()["activated"] is False and len(dry.json()["dry_run"]) == 7
    assert po.get("/api/v1/policy").json()["id"] == 1

    assert_error(login("root").post("/api/v1/policy/versions", json={"text": new}), 403, "role_required")
    po = login("po")
    done = po.post(
        "/api/v1/policy/versions", json={"text": new, "activate": True, "note": "open RED", "base_version": 1}
    )
    assert done.status_code == 200, done.text
    assert done.json()["version"]["id"] == 2
    active = po.get("/api/v1/policy").json()
    assert active["id"] == 2 and "tlp-red" not in {r["id"] for r in active["rules"]}
    detail = po.get("/api/v1/policy/versions/2").json()
    assert "-  - id: tlp-red" in detail["diff"] or "- id: tlp-red" in detail["diff"]
    assert_error(po.get("/api/v1/policy/versions/9"), 404)
    stale = po.post("/api/v1/policy/versions", json={"text": TEXT, "activate": True, "note": "x", "base_version": 1})
    assert_error(stale, 409, "conflict")
    changes = [d for u, _s, d in events(store, "policy.change") if u == "po"]
    assert changes and changes[-1]["previous_sha256"] == file_policy().sha256 and changes[-1]["version_id"] == 2


def test_policy_needs_a_session_not_a_token(app_client: TestClient, world: World, store: Store) -> None:
    from fusionhub.policy.auth import create_api_token

    world["po"]
    token = create_api_token(store, "po", ["audit:read"], timedelta(days=1))
    answer = app_client.get("/api/v1/policy", headers={"Authorization": f"Bearer {token}"})
    assert_error(answer, 403, "session_required")


# -- users ----------------------------------------------------------------------------
def test_user_administration(login: Callable[[str], TestClient], world: World, store: Store) -> None:
    world.everyone()
    root = login("root")
    disabled = root.post("/api/v1/users/ana/disable")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert root.post("/api/v1/users/ana/enable").json()["active"] is True

    roles = root.put("/api/v1/users/ana/roles", json={"roles": ["analyst", "supervisor"]})
    assert roles.json()["roles"] == ["analyst", "supervisor"]
    assert_error(root.put("/api/v1/users/ana/roles", json={"roles": ["wizard"]}), 422)
    assert_error(root.put("/api/v1/users/ana/roles", json={"roles": []}), 422)

    assert root.post("/api/v1/users/bob/reset-mfa").json()["mfa_enrolled"] is False
    trained = root.put("/api/v1/users/bob/training", json={"training_date": "2026-03-01"})
    assert trained.json()["training_date"] == "2026-03-01"
    assert_error(root.put("/api/v1/users/bob/training", json={"training_date": "2999-01-01"}), 422)

    assert_error(root.post("/api/v1/users/nobody/disable"), 404)
    # The last administrator is neither disabled nor demoted.
    assert_error(root.post("/api/v1/users/root/disable"), 409, "last_administrator")
    assert_error(root.put("/api/v1/users/root/roles", json={"roles": ["analyst"]}), 409, "last_administrator")

    assert [s for _u, s, _d in events(store, "user.disable")] == ["user:ana"]
    assert events(store, "permission.change")[-1][2] == {"from": ["analyst"], "to": ["analyst", "supervisor"]}
    assert [s for _u, s, _d in events(store, "user.reset-mfa")] == ["user:bob"]
    assert [u for u, _s, _d in events(store, "user.training")][-1] == "root"

    for name in ("ana", "po", "aud"):
        client = login(name)
        assert_error(client.post("/api/v1/users/bob/disable"), 403)
        assert_error(client.put("/api/v1/users/bob/roles", json={"roles": ["administrator"]}), 403)


def test_administrator_revokes_a_token(login: Callable[[str], TestClient], world: World, store: Store) -> None:
    from fusionhub.policy.auth import create_api_token

    world["bob"]
    token = create_api_token(store, "bob", ["search"], timedelta(days=1))
    root = login("root")
    listed = root.get("/api/v1/users/bob/tokens").json()
    assert [t["revoked"] for t in listed] == [False]
    revoked = root.post(f"/api/v1/users/bob/tokens/{listed[0]['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert_error(root.post("/api/v1/users/ana/tokens/1/revoke"), 404)
    root.cookies.clear()
    answer = root.get("/api/v1/search?q=smith", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert [s for _u, s, _d in events(store, "token.revoke")] == ["user:bob"]


def test_new_routes_are_documented_with_their_errors(app_client: TestClient) -> None:
    paths = app_client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        ("/api/v1/policy", "get"): {"401", "403"},
        ("/api/v1/policy/versions", "get"): {"401", "403", "400"},
        ("/api/v1/policy/versions", "post"): {"401", "403", "409", "422"},
        ("/api/v1/policy/versions/{version_id}", "get"): {"401", "403", "404"},
        ("/api/v1/users/{username}/disable", "post"): {"401", "403", "404", "409"},
        ("/api/v1/users/{username}/enable", "post"): {"401", "403", "404"},
        ("/api/v1/users/{username}/roles", "put"): {"401", "403", "404", "409", "422"},
        ("/api/v1/users/{username}/reset-mfa", "post"): {"401", "403", "404"},
        ("/api/v1/users/{username}/training", "put"): {"401", "403", "404", "422"},
        ("/api/v1/users/{username}/tokens", "get"): {"401", "403", "404"},
        ("/api/v1/users/{username}/tokens/{token_id}/revoke", "post"): {"401", "403", "404"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)


def test_my_recent_searches(login: Callable[[str], TestClient], world: World, store: Store) -> None:
    from fusionhub.policy.identity import actor_for
    from fusionhub.search.audit import record_search

    world.everyone()
    with store.begin() as conn:
        record_search(conn, actor_for(store, "ana"), "case 24-001", "smith", 2, [1, 2])
        record_search(conn, actor_for(store, "bob"), "case 24-002", "roe", 1, [3])
    mine = login("ana").get("/api/v1/me/searches").json()
    assert [(s["query"], s["purpose"], s["hits"]) for s in mine] == [("smith", "case 24-001", 2)]
    assert [s["query"] for s in login("bob").get("/api/v1/me/searches").json()] == ["roe"]
    assert login("aud").get("/api/v1/me/searches").json() == []
    app_client = login("aud")
    app_client.cookies.clear()
    assert_error(app_client.get("/api/v1/me/searches"), 401)
