"""Fused profiles, analysts' decisions and link analysis over REST, policy-filtered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient
from sqlalchemy import select

from fusionhub.policy.audit import query as query_audit
from fusionhub.policy.identity import actor_for
from fusionhub.resolve.profile import canonical_of
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests.api.conftest import World
from tests.api.test_foundation import assert_error
from tests.graph.seed import person, person_ref, seed_link_world
from tests.resolve.conftest import persons, trained_model

__all__ = ["persons", "trained_model"]  # session fixtures shared with tests/resolve
PURPOSE = {"purpose": "case 24-001"}
HIDDEN_PHONE = "6185559999"  # only the agency-only record of PD2 states it


@pytest.fixture
def linked(store: Store, world: World, tmp_path: Path, trained_model: dict[str, Any]) -> Store:
    seed_link_world(store, tmp_path, trained_model, agency="PD1", hidden_agency="PD2")
    return store


def privacy_officer(world: World) -> Any:
    world["po"]  # the account, made on first use
    return actor_for(world.store, "po")


def test_profile_shows_only_values_from_records_the_viewer_may_read(
    linked: Store, login: Callable[[str], TestClient], world: World
) -> None:
    bob = person(linked, "C2", "KOWALSKI")
    assert bob == person(linked, "S1", "KOWALSKI")  # one entity across the policy boundary
    client = login("ana")
    assert_error(client.get(f"/api/v1/entities/{bob}"), 403, "purpose_required")
    seen = client.get(f"/api/v1/entities/{bob}", params=PURPOSE)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["id"] == bob and body["schema"] == "Person"
    text = json.dumps(body)
    # ana (PD1) reads nothing of the agency-only record of PD2: no value, source or link.
    assert HIDDEN_PHONE not in text and "secret" not in text and "S1" not in text
    assert {r["source"] for r in body["records"]} == {"rms"}
    first = body["attributes"]["firstName"][0]
    assert first["value"] == "BOB" and first["sources"][0]["reliability"] and first["sources"][0]["date"]
    assert len(first["sources"]) == 2  # C1 and C2 both state it
    assert body["timeline"] and {e["caption"] for e in body["events"]} >= {"C1", "C2"}
    # The owner's analyst sees the hidden record's values too.
    full = login("bob").get(f"/api/v1/entities/{bob}", headers={"X-Purpose": "case 24-001"}).json()
    assert {r["source"] for r in full["records"]} == {"rms", "secret"}
    assert HIDDEN_PHONE in json.dumps(full["related"])  # the phone BOB uses, stated by S1 only
    # The look is audited with the records it showed.
    events = query_audit(linked, privacy_officer(world), action="entity.view", subject=f"entity:{bob}")
    assert {e.username for e in events} >= {"ana", "bob"}
    assert all(e.purpose == "case 24-001" and e.details["record_ids"] for e in events)


def hidden_phone(store: Store) -> str:
    """The canonical id of the phone only PD2's agency-only record names."""
    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == "S1")).scalar_one()
    ref = next(e["id"] for e in payload["entities"] if e["schema"] == "Phone")
    return canonical_of(store, [ref])[ref]


def test_an_entity_only_hidden_records_name_does_not_exist_for_the_viewer(
    linked: Store, login: Callable[[str], TestClient]
) -> None:
    phone = hidden_phone(linked)
    client = login("ana")
    for entity in (phone, "Enothere"):  # hidden and unknown answer alike
        assert_error(client.get(f"/api/v1/entities/{entity}", params=PURPOSE), 404, "not_found")
        assert_error(client.get(f"/api/v1/entities/{entity}/decisions"), 404, "not_found")
        assert_error(client.get("/api/v1/graph/neighbours", params={"entity": entity}), 404, "not_found")
    text = client.get("/api/v1/graph/export.graphml").text
    assert phone not in text and HIDDEN_PHONE not in text
    assert client.get(f"/api/v1/entities/{person(linked, 'C2', 'KOWALSKI')}/decisions").json() == []
    owner = login("bob")
    assert owner.get(f"/api/v1/entities/{phone}", params=PURPOSE).json()["schema"] == "Phone"
    assert owner.get("/api/v1/graph/neighbours", params={"entity": phone}).status_code == 200


def test_roles_for_profiles_and_decisions(linked: Store, login: Callable[[str], TestClient], world: World) -> None:
    bob = person(linked, "C2", "KOWALSKI")
    anon = TestClient(login("ana").app, base_url="https://testserver")
    assert_error(anon.get(f"/api/v1/entities/{bob}", params=PURPOSE), 401)
    assert_error(anon.get("/api/v1/graph/communities"), 401)
    for name in ("aud", "root"):  # roles that read no records
        client = login(name)
        assert_error(client.get(f"/api/v1/entities/{bob}", params=PURPOSE), 403, "role_required")
        assert_error(client.get("/api/v1/graph/neighbours", params={"entity": bob}), 403, "role_required")
    body = {"kind": "split", "left": person_ref(linked, "C1", "KOWALSKI"), "reason": "namesake"}
    # A field user reads the profile but may not change how entities are resolved.
    field = login("fld")
    assert field.get(f"/api/v1/entities/{bob}", params=PURPOSE).status_code == 200
    assert_error(field.post("/api/v1/entities/decisions", json=body), 403, "role_required")
    assert_error(login("po").post("/api/v1/entities/decisions", json=body), 403, "role_required")


def test_decisions_are_audited_listed_and_policy_filtered(
    linked: Store, login: Callable[[str], TestClient], world: World
) -> None:
    bob = person(linked, "C2", "KOWALSKI")
    c1, c2 = person_ref(linked, "C1", "KOWALSKI"), person_ref(linked, "C2", "KOWALSKI")
    hidden = person_ref(linked, "S1", "KOWALSKI")
    client = login("ana")
    made = client.post(
        "/api/v1/entities/decisions", json={"kind": "confirm", "left": c1, "right": c2, "reason": "same DL on file"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "confirm"
    # A reason is required; two references are needed to confirm; they must differ; a
    # reference in a record ana may not read is "not found".
    assert_error(
        client.post("/api/v1/entities/decisions", json={"kind": "confirm", "left": c1, "right": c2, "reason": " "}),
        422,
        "invalid_request",
    )
    assert_error(client.post("/api/v1/entities/decisions", json={"kind": "confirm", "left": c1, "reason": "x"}), 422)
    assert_error(
        client.post("/api/v1/entities/decisions", json={"kind": "confirm", "left": c1, "right": c1, "reason": "x"}),
        422,
        "decision_error",
    )
    assert_error(
        client.post(
            "/api/v1/entities/decisions", json={"kind": "not-same", "left": c1, "right": hidden, "reason": "x"}
        ),
        404,
        "not_found",
    )
    # PD2's analyst decides about their own record against the shared one.
    owner = login("bob")
    assert (
        owner.post(
            "/api/v1/entities/decisions", json={"kind": "not-same", "left": hidden, "right": c2, "reason": "other BOB"}
        ).status_code
        == 201
    )
    theirs = owner.get(f"/api/v1/entities/{bob}/decisions").json()
    assert [(d["kind"], d["user"]) for d in theirs] == [("confirm", "ana"), ("not-same", "bob")]
    # ana sees her decision, not the one naming PD2's agency-only record.
    mine = login("ana").get(f"/api/v1/entities/{bob}/decisions").json()
    assert [(d["kind"], d["reason"]) for d in mine] == [("confirm", "same DL on file")]
    events = query_audit(linked, privacy_officer(world), action="resolve:confirm")
    assert [(e.username, e.details["reason"]) for e in events] == [("ana", "same DL on file")]


def test_graph_queries_are_policy_filtered(linked: Store, login: Callable[[str], TestClient]) -> None:
    ann, bob = person(linked, "C1", "RIVERA"), person(linked, "C2", "KOWALSKI")
    cal, dee, eve = person(linked, "C2", "OKAFOR"), person(linked, "C3", "NAKAMURA"), person(linked, "C4", "LINDQVIST")
    client = login("ana")
    near = client.get("/api/v1/graph/neighbours", params={"entity": ann, "depth": 1})
    assert near.status_code == 200, near.text
    body = near.json()
    assert body["center"] == ann and ann in {n["id"] for n in body["nodes"]}
    ids = {n["id"] for n in body["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])  # ends are node ids
    assert {"involved", "same-incident", "resides", "uses-phone"} <= {e["kind"] for e in body["edges"]}
    shared = client.get(
        "/api/v1/graph/neighbours", params={"entity": ann, "relationship": ["shared-address", "shared-phone"]}
    ).json()
    assert {dee, eve} <= set(shared["depth"]) and {e["kind"] for e in shared["edges"]} <= {
        "shared-address",
        "shared-phone",
    }
    early = client.get(
        "/api/v1/graph/neighbours", params={"entity": bob, "relationship": "co-arrest", "to": "2024-02-28"}
    ).json()
    assert cal not in early["depth"]
    path = client.get("/api/v1/graph/path", params={"a": dee, "b": cal}).json()
    assert path["found"] and path["length"] == 3
    # The tie only PD2's agency-only record states: absent for ana, present for its owner.
    tie = {"entity": bob, "relationship": "same-incident"}
    assert eve not in client.get("/api/v1/graph/neighbours", params=tie).json()["depth"]
    assert "S1" not in json.dumps(client.get("/api/v1/graph/neighbours", params={"entity": bob, "depth": 3}).json())
    assert eve in login("bob").get("/api/v1/graph/neighbours", params=tie).json()["depth"]
    client = login("ana")
    assert client.get("/api/v1/graph/communities", params={"min_size": 2}).json()
    top = client.get("/api/v1/graph/centrality", params={"top": 3}).json()
    assert len(top) == 3 and top[0]["betweenness"] >= top[-1]["betweenness"]
    assert_error(client.get("/api/v1/graph/neighbours", params={"entity": "Enothere"}), 404, "not_found")
    assert_error(client.get("/api/v1/graph/neighbours", params={"entity": ann, "relationship": "telepathy"}), 422)


def test_graphml_export(linked: Store, login: Callable[[str], TestClient]) -> None:
    ann = person(linked, "C1", "RIVERA")
    response = login("ana").get("/api/v1/graph/export.graphml", params={"entity": ann, "depth": 1})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphml+xml")
    assert "attachment" in response.headers["content-disposition"]
    root = ElementTree.fromstring(response.content)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = {n.get("id") for n in root.iterfind(".//g:node", ns)}
    assert ann in nodes and len(nodes) > 3
    assert all(e.get("source") in nodes for e in root.iterfind(".//g:edge", ns))
