"""The authorization matrix over HTTP: every role against every route of the real app,
and every record class x handling caveat x owning agency x sharing terms through the
record and search endpoints, on both engines.

``EXPECTED`` declares, one line per route, which roles the route admits. A route of the
app without a line fails ``test_every_route_has_an_expectation``, so a new endpoint or
page cannot escape the matrix. Each role logs in over HTTP (password and TOTP), takes a
scoped bearer token over HTTP, and calls every route with it (and with its session
cookie and CSRF token). Admitted means neither 401 nor 403 (nor a 5xx); refused means
403 in the one error shape, or 404 where the policy hides that the thing exists.

The record part compares what each role gets from the list, single-record and search
endpoints with ``fusionhub.policy.decision.decide_read``; a denial carries no record
content, and a hidden record is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from starlette.routing import Mount

from fusionhub.api import create_app
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.ingest.sources import list_agencies
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy import emergency
from fusionhub.policy.actor import RECORD_READERS, ROLES, Actor
from fusionhub.policy.decision import RecordFacts, decide_read
from fusionhub.policy.dissemination import DISSEMINATORS, LOG_READERS, record_agreement
from fusionhub.policy.identity import actor_for
from fusionhub.policy.redress import request_correction
from fusionhub.policy.rules import SHARING_TERMS, file_policy
from fusionhub.policy.submission import SubmissionBasis, submit_record
from fusionhub.resolve.decisions import DECIDERS as RESOLUTION_DECIDERS
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.api.conftest import CSV, PROFILE
from tests.conftest import ENGINES, _new_store
from tests.policy.conftest import T0, make_record, make_source
from tests.weblogin import PASSWORD, account, auth, code

# -- who --------------------------------------------------------------------------
#: One account per role (policy/actor.py ROLES); the partner belongs to a private-sector agency.
USERS = {
    "analyst": "ana",
    "supervisor": "sup",
    "privacy-officer": "po",
    "field-user": "fld",
    "partner": "ptn",
    "auditor": "aud",
    "administrator": "root",
}
assert set(USERS) == set(ROLES), "a new role needs an account here"
PUBLIC = frozenset({"public"})
ALL = frozenset(ROLES)
READERS = frozenset(RECORD_READERS)
ADMIN = frozenset({"administrator"})
AUDIT = frozenset({"auditor", "privacy-officer"})
RETENTION = frozenset({"supervisor", "privacy-officer"})
IMPORT_VIEW = frozenset({"analyst", "supervisor", "administrator", "privacy-officer"})
IMPORTER = frozenset({"analyst", "supervisor", "administrator"})
RELEASE = frozenset(DISSEMINATORS)
DISSEMINATION_LOG = frozenset(LOG_READERS)
REVIEW_QUEUE = frozenset({"supervisor", "privacy-officer"})
SUPERVISOR = frozenset({"supervisor"})
REDRESS_DECIDERS = frozenset({"supervisor", "privacy-officer"})
DECIDERS = frozenset(RESOLUTION_DECIDERS)
POLICY_VIEW = frozenset({"privacy-officer", "administrator"})
POLICY_CHANGE = frozenset({"privacy-officer"})
#: A valid policy text for a dry run (braces doubled: request values are str.format-ed).
POLICY_DRY_RUN = (
    Path(file_policy().path)
    .read_text(encoding="utf-8")
    .replace("    - compliance audit\n", "    - compliance audit\n    - matrix exercise\n")
    .replace("{", "{{")
    .replace("}", "}}")
)

NAME = "Zebediah Quarrington"
PURPOSE = "case 24-001"
BASIS = SubmissionBasis("Informant B2 reports the subject sells stolen rifles from a shed.", "weapons-trafficking")
ASSESSMENT = "We assess that a person in our holdings intends to set fire to the depot tonight."


@dataclass(frozen=True)
class Expect:
    """Which roles a route admits, and a request that should succeed for them.

    ``path`` and string values are formatted with the world's ids (``{open_record}``...).
    ``auth`` is ``token`` (bearer, then session cookie too) or ``session`` (cookie only:
    pages and own-account operations). ``hidden``: refused roles get 404, not 403,
    because the policy does not even confirm that the thing exists.
    """

    roles: frozenset[str]
    path: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None
    body: bytes | None = None
    auth: str = "token"
    hidden: bool = False
    fresh_session: bool = False


def page(roles: frozenset[str], **kw: Any) -> Expect:
    return Expect(roles, auth="session", **kw)


RELEASE_BODY = {
    "record_ids": ["{open_record}"],
    "recipient_agency": "PD2",
    "recipient_person": "Det. Kim",
    "reason": "joint case 24-001",
}
EMERGENCY_BODY = {
    "record_ids": ["{ci_record}"],
    "assessment": ASSESSMENT,
    "danger": "life",
    "justification": "fire planned for tonight at an occupied depot",
    "supervisor": "boss",
    "recipient_person": "Chief Ray",
    "recipient_organization": "City Fire Department",
}
ON_RECORD = {"purpose": PURPOSE}

#: (method, path template) -> expectation. One line per route; extend it when a route is added.
# fmt: off
EXPECTED: dict[tuple[str, str], Expect] = {
    # -- REST API -------------------------------------------------------------------
    ("GET", "/api/v1/openapi.json"): Expect(PUBLIC),
    ("POST", "/api/v1/auth/login"): Expect(PUBLIC, json={"username": "pub", "password": PASSWORD, "totp_code": "{pub_code}"}),
    ("POST", "/api/v1/auth/logout"): Expect(ALL, auth="session", fresh_session=True),
    ("GET", "/api/v1/auth/me"): Expect(ALL, auth="session"),
    ("POST", "/api/v1/auth/tokens"): Expect(ALL, auth="session", json={"scopes": ["search"], "expires_in": 600}),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): Expect(ADMIN, path="/api/v1/auth/tokens/{spare_token}"),
    ("GET", "/api/v1/agencies"): Expect(ADMIN),
    ("POST", "/api/v1/agencies"): Expect(ADMIN, json={"code": "MX1", "name": "Matrix agency"}),
    ("GET", "/api/v1/users"): Expect(ADMIN),
    ("POST", "/api/v1/users"): Expect(ADMIN, json={"username": "mxuser", "agency": "PD1", "roles": ["analyst"]}),
    ("PUT", "/api/v1/users/{username}/password"): Expect(ADMIN, path="/api/v1/users/victim/password", json={"password": "another long password"}),
    ("POST", "/api/v1/users/{username}/disable"): Expect(ADMIN, path="/api/v1/users/victim/disable"),
    ("POST", "/api/v1/users/{username}/enable"): Expect(ADMIN, path="/api/v1/users/victim/enable"),
    ("PUT", "/api/v1/users/{username}/roles"): Expect(ADMIN, path="/api/v1/users/victim/roles", json={"roles": ["analyst"]}),
    ("POST", "/api/v1/users/{username}/reset-mfa"): Expect(ADMIN, path="/api/v1/users/victim/reset-mfa"),
    ("PUT", "/api/v1/users/{username}/training"): Expect(ADMIN, path="/api/v1/users/victim/training", json={"training_date": "2026-01-05"}),
    ("GET", "/api/v1/users/{username}/tokens"): Expect(ADMIN, path="/api/v1/users/victim/tokens"),
    ("POST", "/api/v1/users/{username}/tokens/{token_id}/revoke"): Expect(ADMIN, path="/api/v1/users/victim/tokens/{victim_token}/revoke"),
    ("GET", "/api/v1/me/searches"): Expect(ALL),
    ("GET", "/api/v1/policy"): Expect(POLICY_VIEW, auth="session"),
    ("GET", "/api/v1/policy/versions"): Expect(POLICY_VIEW, auth="session"),
    ("GET", "/api/v1/policy/versions/{version_id}"): Expect(POLICY_VIEW, path="/api/v1/policy/versions/1", auth="session"),
    ("POST", "/api/v1/policy/versions"): Expect(POLICY_CHANGE, json={"text": POLICY_DRY_RUN}, auth="session"),
    ("GET", "/api/v1/sources"): Expect(ALL),
    ("GET", "/api/v1/sources/{name}"): Expect(ALL, path="/api/v1/sources/rms1"),
    ("POST", "/api/v1/sources"): Expect(ADMIN, json={"name": "mx-src", "agency": "PD1", "kind": "rms"}),
    ("POST", "/api/v1/imports"): Expect(IMPORTER, query={"source": "rms1", "filename": "people.csv"}, body=CSV.encode()),
    ("GET", "/api/v1/imports"): Expect(IMPORT_VIEW),
    ("GET", "/api/v1/imports/jobs/{job_id}"): Expect(IMPORT_VIEW, path="/api/v1/imports/jobs/no-such-job"),
    ("GET", "/api/v1/imports/{batch_id}"): Expect(IMPORT_VIEW, path="/api/v1/imports/{batch}"),
    ("GET", "/api/v1/imports/{batch_id}/quarantine"): Expect(IMPORT_VIEW, path="/api/v1/imports/{batch}/quarantine"),
    # The record routes admit every user; what each may read is the policy's (the record tests below).
    ("GET", "/api/v1/records"): Expect(ALL, query={"limit": 5}),
    ("GET", "/api/v1/records/{record_id}"): Expect(READERS, path="/api/v1/records/{open_record}", query=ON_RECORD, hidden=True),
    ("GET", "/api/v1/search"): Expect(ALL, query={"q": f'name:"{NAME}"', "limit": 5, **ON_RECORD}),
    ("GET", "/api/v1/audit/events"): Expect(AUDIT, query={"limit": 5}),
    ("GET", "/api/v1/audit/verify"): Expect(AUDIT),
    ("GET", "/api/v1/compliance/report"): Expect(AUDIT),
    ("GET", "/api/v1/compliance/report.csv"): Expect(AUDIT),
    ("GET", "/api/v1/retention/queue"): Expect(RETENTION),
    ("POST", "/api/v1/retention/{record_id}/validate"): Expect(RETENTION, path="/api/v1/retention/{ci_record}/validate", json={"justification": "active investigation 24-001"}),
    ("GET", "/api/v1/redress"): Expect(ALL),
    ("POST", "/api/v1/redress"): Expect(READERS, json={"record_id": "{open_record}", "reason": "the birth date is wrong"}, hidden=True),
    ("POST", "/api/v1/redress/{request_id}/decision"): Expect(REDRESS_DECIDERS, path="/api/v1/redress/{redress}/decision", json={"accept": False, "note": "the source confirms it"}),
    ("POST", "/api/v1/disseminations"): Expect(RELEASE, json=RELEASE_BODY),
    ("GET", "/api/v1/disseminations"): Expect(DISSEMINATION_LOG),
    ("POST", "/api/v1/disseminations/emergency"): Expect(RELEASE, json=EMERGENCY_BODY),
    ("GET", "/api/v1/disseminations/emergency"): Expect(DISSEMINATION_LOG),
    ("GET", "/api/v1/disseminations/reviews"): Expect(REVIEW_QUEUE),
    ("POST", "/api/v1/disseminations/emergency/{release_id}/review"): Expect(SUPERVISOR, path="/api/v1/disseminations/emergency/{emergency}/review", json={"outcome": "upheld", "note": "release was necessary"}),
    # -- workspace pages --------------------------------------------------------------
    ("GET", "/login"): Expect(PUBLIC),
    ("POST", "/login"): Expect(PUBLIC, form={"username": "pubweb", "password": PASSWORD, "totp_code": "{pubweb_code}", "csrf_token": "{csrf}"}),
    ("POST", "/login/enrol"): Expect(PUBLIC, form={"nonce": "expired", "password": "x", "totp_code": "000000", "csrf_token": "{csrf}"}),
    ("POST", "/logout"): page(ALL, fresh_session=True),
    ("GET", "/basemap/stl_neighborhoods.geojson"): page(ALL),
    ("GET", "/"): page(ALL),
    ("GET", "/sources"): page(ALL),
    ("GET", "/imports"): page(IMPORT_VIEW),
    ("GET", "/imports/jobs/{job_id}"): page(IMPORT_VIEW, path="/imports/jobs/no-such-job"),
    ("GET", "/imports/{batch_id}"): page(IMPORT_VIEW, path="/imports/{batch}"),
    ("GET", "/records"): page(ALL),
    ("GET", "/records/{record_id}"): page(READERS, path="/records/{open_record}", query=ON_RECORD, hidden=True),
    ("GET", "/search"): page(ALL, query={"q": f'name:"{NAME}"', **ON_RECORD}),
    ("GET", "/admin"): page(ADMIN),
    ("POST", "/admin/agencies"): page(ADMIN, form={"code": "MX2", "name": "Matrix agency 2"}),
    ("POST", "/admin/users"): page(ADMIN, form={"username": "mxweb", "agency": "PD1", "roles": "analyst", "password": "a long password 1"}),
    ("POST", "/admin/sources"): page(ADMIN, form={"name": "mx-web-src", "agency": "PD1", "kind": "rms"}),
    ("POST", "/admin/users/{username}/disable"): page(ADMIN, path="/admin/users/victim/disable", form={"confirm": "yes"}),
    ("POST", "/admin/users/{username}/enable"): page(ADMIN, path="/admin/users/victim/enable", form={}),
    ("POST", "/admin/users/{username}/roles"): page(ADMIN, path="/admin/users/victim/roles", form={"roles": "analyst"}),
    ("POST", "/admin/users/{username}/reset-mfa"): page(ADMIN, path="/admin/users/victim/reset-mfa", form={"confirm": "yes"}),
    ("POST", "/admin/users/{username}/training"): page(ADMIN, path="/admin/users/victim/training", form={"training_date": "2026-01-05"}),
    ("POST", "/admin/users/{username}/tokens/{token_id}/revoke"): page(ADMIN, path="/admin/users/victim/tokens/{victim_token}/revoke", form={"confirm": "yes"}),
    ("GET", "/admin/policy"): page(POLICY_VIEW),
    ("POST", "/admin/policy"): page(POLICY_CHANGE, form={"text": POLICY_DRY_RUN, "base_version": "1", "action": "dry-run"}),
    ("GET", "/audit"): page(AUDIT),
    ("GET", "/compliance"): page(AUDIT),
    ("GET", "/retention"): page(RETENTION),
    ("POST", "/retention/{record_id}/validate"): page(RETENTION, path="/retention/{ci_record}/validate", form={"justification": "active investigation 24-001"}),
    ("GET", "/redress"): page(ALL),
    ("POST", "/redress"): page(READERS, form={"record_id": "{open_record}", "reason": "the address is wrong"}, hidden=True),
    ("POST", "/redress/{request_id}/decision"): page(REDRESS_DECIDERS, path="/redress/{redress}/decision", form={"decision": "reject", "note": "the source confirms it"}),
    ("GET", "/disseminations"): page(RELEASE | DISSEMINATION_LOG),
    ("POST", "/disseminations"): page(RELEASE, form={**RELEASE_BODY, "record_ids": "{open_record}"}),
    ("POST", "/disseminations/emergency"): page(RELEASE, form={**EMERGENCY_BODY, "record_ids": "{ci_record}"}),
    ("POST", "/disseminations/emergency/{release_id}/review"): page(SUPERVISOR, path="/disseminations/emergency/{emergency}/review", form={"outcome": "upheld", "note": "release was necessary"}),
    # -- fusion: fused profiles, analysts' decisions, link analysis (all need a purpose) --
    ("GET", "/api/v1/entities/{entity_id}"): Expect(READERS, path="/api/v1/entities/Enobody", query=ON_RECORD),
    ("GET", "/api/v1/entities/{entity_id}/decisions"): Expect(READERS, path="/api/v1/entities/Enobody/decisions"),
    ("POST", "/api/v1/entities/decisions"): Expect(DECIDERS, json={"kind": "split", "left": "rms1:nobody#p0", "reason": "a namesake, not the same man"}),
    ("GET", "/api/v1/graph/neighbours"): Expect(READERS, query={"entity": "Enobody", **ON_RECORD}),
    ("GET", "/api/v1/graph/path"): Expect(READERS, query={"a": "Enobody", "b": "Enoone", **ON_RECORD}),
    ("GET", "/api/v1/graph/communities"): Expect(READERS, query=ON_RECORD),
    ("GET", "/api/v1/graph/centrality"): Expect(READERS, query={"top": 3, **ON_RECORD}),
    ("GET", "/api/v1/graph/export.graphml"): Expect(READERS, query=ON_RECORD),
    ("GET", "/entities/{entity_id}"): page(READERS, path="/entities/Enobody", query=ON_RECORD),
    ("POST", "/entities/{entity_id}/decisions"): page(DECIDERS, path="/entities/Enobody/decisions", form={"kind": "split", "left": "rms1:nobody#p0", "reason": "a namesake, not the same man"}),
    ("GET", "/graph"): page(READERS, query={"entity": "Enobody", **ON_RECORD}),
    # -- static files (scripts, styles, the vendored libraries): no login needed ---------
    ("GET", "/static"): Expect(PUBLIC),
    ("GET", "/static/vendor/htmx.org"): Expect(PUBLIC),
    ("GET", "/static/vendor/leaflet"): Expect(PUBLIC),
    ("GET", "/static/vendor/chart.js"): Expect(PUBLIC),
    ("GET", "/static/vendor/cytoscape"): Expect(PUBLIC),
}
# fmt: on


def app_routes(app: Any) -> dict[tuple[str, str], Any]:
    """Every (method, path) the app answers, pages and static mounts included (HEAD follows GET)."""
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        path = str(route.path)
        if isinstance(route, Mount):
            found[("GET", path)] = route
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found[(method, path)] = route
    return found


# -- the world: one store and one app per engine for the whole module ------------------
@dataclass
class Login:
    session: str
    csrf: str
    token: str


@dataclass
class World:
    store: Store
    client: TestClient
    logins: dict[str, Login]
    secrets: dict[str, str]
    ids: dict[str, Any]
    grid: dict[int, RecordFacts]
    actors: dict[str, Actor]


HANDLING = ("", "LES", "NO-PRIVATE-SECTOR", "CUI,PRIVACY")
OWNERS = ("PD1", "PD2", "CORP")
TERMS = {"none": {}, **{term: {term: True} for term in SHARING_TERMS}}


def lay_grid(store: Store) -> dict[int, RecordFacts]:
    """Every record class x TLP x handling caveat x owning agency x sharing term, plus
    every combination of terms and the cancelled and purged states on a few; each record
    names the same person, so one search finds them all."""
    vocab = load_vocabulary()
    agency_ids = {a.code: a.id for a in list_agencies(store)}
    plan: list[tuple[int, str, str, str, str]] = []  # (source, class, tlp, handling, status)
    for owner, (name, terms) in itertools.product(OWNERS, TERMS.items()):
        source_id = make_source(store, f"{owner}-{name}", owner, terms)
        for record_class, tlp, handling in itertools.product(vocab.record_classes, vocab.tlp, HANDLING):
            plan.append((source_id, record_class, tlp, handling, "active"))
        if name == "none":
            for status, record_class in itertools.product(
                ("cancelled", "purged"), ("incident", "criminal-intelligence")
            ):
                plan.append((source_id, record_class, "GREEN", "", status))
    for owner, bits in itertools.product(OWNERS, itertools.product((False, True), repeat=len(SHARING_TERMS))):
        label = "".join("1" if b else "0" for b in bits)
        source_id = make_source(store, f"{owner}-combo-{label}", owner, dict(zip(SHARING_TERMS, bits, strict=True)))
        plan.append((source_id, "incident", "GREEN", "", "active"))
    owners = {sid: agency_ids[code] for code in OWNERS for sid in _sources_of(store, agency_ids[code])}
    with store.begin() as conn:
        first = store.allocate_seq(conn, len(plan))
        rows = [
            {
                "source_id": source_id,
                "source_record_id": f"g{n}",
                "agency_id": owners[source_id],
                "record_class": record_class,
                "tlp": tlp,
                "handling": handling,
                "reliability": "B",
                "validity": "2",
                "received_at": T0,
                "review_due": T0 + timedelta(days=1826),
                "status": status,
                "version": 1,
                "content_hash": f"{n:040d}",
                "payload": {
                    "entities": [{"schema": "Person", "key": "person", "id": f"g-{n}", "properties": {"name": [NAME]}}]
                },
                "seq": first + n,
                "updated_at": T0,
            }
            for n, (source_id, record_class, tlp, handling, status) in enumerate(plan)
        ]
        conn.execute(insert(t.record), rows)
        found = conn.execute(
            select(
                t.record.c.id,
                t.record.c.agency_id,
                t.record.c.record_class,
                t.record.c.tlp,
                t.record.c.handling,
                t.record.c.status,
                t.source.c.sharing_terms,
            )
            .join(t.source, t.source.c.id == t.record.c.source_id)
            .where(t.record.c.source_record_id.like("g%"))
        ).all()
    return {
        r.id: RecordFacts(r.agency_id, r.record_class, r.tlp, r.handling, r.status, r.sharing_terms or {})
        for r in found
    }


def _sources_of(store: Store, agency_id: int) -> list[int]:
    with store.connect() as conn:
        return list(conn.execute(select(t.source.c.id).where(t.source.c.agency_id == agency_id)).scalars())


def _seed(store: Store, tmp: Path) -> tuple[dict[str, str], dict[str, Any]]:
    factories.agency(store, "PD1")
    factories.agency(store, "CORP", "private-sector")
    factories.agency(store, "PD2")
    record_agreement(store, None, "PD2", date(2099, 12, 31), "MOU PD2", by="test-operator")
    profile = tmp / "people.yaml"
    profile.write_text(PROFILE)
    factories.source(store, "rms1", "PD1", profile=str(profile))
    make_source(store, "intel", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    secrets = {
        name: account(
            store,
            name,
            (role,),
            "CORP" if role == "partner" else "PD1",
            "private-sector" if role == "partner" else "law-enforcement",
        )
        for role, name in USERS.items()
    }
    for extra, role in (("boss", "supervisor"), ("pub", "analyst"), ("pubweb", "analyst"), ("victim", "analyst")):
        secrets[extra] = account(store, extra, (role,))
    csv = tmp / "people.csv"
    csv.write_text(CSV)
    batch = ingest_file(store, csv, "rms1", user="ana").batch_id
    corp_news = make_source(store, "corp-news", "CORP", {})
    pd1_open = make_source(store, "pd1-open", "PD1", {})
    ana, sup = actor_for(store, "ana"), actor_for(store, "sup")
    ci = submit_record(store, ana, "intel", "criminal-intelligence", BASIS, persons=["Otto Fence"])
    open_record = make_record(store, corp_news, record_class="incident", tlp="GREEN", name="Open Record")
    pd1_record = make_record(store, pd1_open, record_class="incident", tlp="GREEN", name="Home Record")
    redress = request_correction(store, ana, pd1_record, "the birth date is wrong")
    released = emergency.release_assessment(
        store,
        ana,
        [ci],
        ASSESSMENT,
        danger="property",
        justification="arson planned for tonight",
        supervisor=sup.username,
        recipient_person="Ms. Vale",
        recipient_organization="Depot Logistics",
    )
    spare = auth.create_api_token(store, "ana", ["search"], timedelta(days=1))
    victim_token = auth.create_api_token(store, "victim", ["search"], timedelta(days=1))
    ids = {
        "batch": batch,
        "ci_record": ci,
        "open_record": open_record,
        "redress": redress,
        "emergency": released.id,
        "spare_token": int(spare.split("_")[1]),
        "spare_token_secret": spare,
        "victim_token": int(victim_token.split("_")[1]),
    }
    return secrets, ids


@pytest.fixture(scope="module", params=ENGINES)
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"matrix-{request.param}")
    store = _new_store(request.param, request, tmp)
    secrets, ids = _seed(store, tmp)
    grid = lay_grid(store)
    app = create_app(store)
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        logins: dict[str, Login] = {}
        for role, name in USERS.items():
            # A real login over HTTP (password and the current TOTP code), then a token over HTTP.
            client.cookies.clear()
            r = client.post(
                "/api/v1/auth/login", json={"username": name, "password": PASSWORD, "totp_code": code(secrets[name])}
            )
            assert r.status_code == 200, (role, r.text)
            cookie, csrf = r.cookies["fh_session"], r.cookies["fh_csrf"]
            client.cookies.clear()
            r = client.post(
                "/api/v1/auth/tokens",
                json={
                    "scopes": [
                        "records:read",
                        "search",
                        "records:write",
                        "export",
                        "audit:read",
                        "users:manage",
                        "retention",
                        "redress",
                    ],
                    "expires_in": 3600,
                },
                headers={"cookie": f"fh_session={cookie}; fh_csrf={csrf}", "x-csrf-token": csrf},
            )
            assert r.status_code == 201, (role, r.text)
            logins[role] = Login(cookie, csrf, r.json()["token"])
        actors = {role: actor_for(store, name) for role, name in USERS.items()}
        yield World(store, client, logins, secrets, ids, grid, actors)
    store.dispose()


# -- calling a route ---------------------------------------------------------------
def _fill(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in values and isinstance(values[whole.group(1)], int):
            return values[whole.group(1)]  # an id stays a number in JSON
        return value.format(**values) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def call(w: World, method: str, template: str, expect: Expect, role: str | None, mode: str) -> Any:
    """One request as ``role`` (None: nobody) with a bearer token or the session cookie."""
    values = dict(w.ids)
    values["csrf"] = "matrix-csrf"
    if "{pub_code}" in str(expect.json):
        values["pub_code"] = code(w.secrets["pub"])
    if "{pubweb_code}" in str(expect.form):
        values["pubweb_code"] = code(w.secrets["pubweb"])
    path = _fill(expect.path or template, values)
    headers: dict[str, str] = {}
    if role is not None and mode == "token":
        headers["authorization"] = f"Bearer {w.logins[role].token}"
    elif role is not None:
        login = w.logins[role]
        cookie = login.session
        if expect.fresh_session:  # logging out must not end the session the other calls use
            cookie = str(auth.create_session(w.store, w.actors[role]))
        headers["cookie"] = f"fh_session={cookie}; fh_csrf={login.csrf}"
        headers["x-csrf-token"] = login.csrf
    elif expect.form is not None:  # a public form still carries its CSRF token
        headers["cookie"] = "fh_csrf=matrix-csrf"
    w.client.cookies.clear()
    kwargs: dict[str, Any] = {"headers": headers, "params": _fill(expect.query, values)}
    if expect.json is not None:
        kwargs["json"] = _fill(expect.json, values)
    if expect.form is not None:
        kwargs["data"] = _fill(expect.form, values)
    if expect.body is not None:
        kwargs["content"] = expect.body
        headers["content-type"] = "application/octet-stream"
    if template.startswith("/static"):
        path = f"{template}/{_static_file(w, template)}"
    return w.client.request(method, path, **kwargs)


def _static_file(w: World, mount_path: str) -> str:
    route = app_routes(w.client.app)[("GET", mount_path)]
    directory = Path(str(route.app.directory))
    first = next(p for p in sorted(directory.rglob("*")) if p.is_file())
    return first.relative_to(directory).as_posix()


def assert_error_shape(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def is_page(template: str) -> bool:
    return not template.startswith("/api/")


def assert_admitted(response: Any, where: tuple[Any, ...]) -> None:
    assert response.status_code not in (401, 403), (where, response.status_code, response.text[:300])
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    assert not response.headers.get("location", "").startswith("/login?next="), where


def assert_refused(response: Any, template: str, hidden: bool, where: tuple[Any, ...]) -> None:
    want = 404 if hidden else 403
    assert response.status_code == want, (where, response.status_code, response.text[:300])
    if not is_page(template):
        error = assert_error_shape(response)
        assert error["code"] in ({"not_found"} if hidden else {"role_required", "access_denied"}), (where, error)
    text = response.text
    assert NAME not in text and "Open Record" not in text and "Otto Fence" not in text, where


# -- the route matrix ------------------------------------------------------------------
def test_every_route_has_an_expectation(matrix: World) -> None:
    routes = set(app_routes(matrix.client.app))
    missing = sorted(routes - set(EXPECTED))
    assert not missing, f"routes without a line in EXPECTED (say which roles they admit): {missing}"
    stale = sorted(set(EXPECTED) - routes)
    assert not stale, f"EXPECTED names routes the app does not have: {stale}"
    # The OpenAPI document lists the same API operations.
    spec = matrix.client.get("/api/v1/openapi.json").json()
    documented = {
        (m.upper(), "/api/v1" + p if not p.startswith("/api/v1") else p)
        for p, ops in spec["paths"].items()
        for m in ops
    }
    api = {(m, p) for m, p in routes if p.startswith("/api/v1/") and p != "/api/v1/openapi.json"}
    assert api == documented


def test_nobody_logged_in_is_refused_everywhere_but_public_routes(matrix: World) -> None:
    for (method, template), expect in EXPECTED.items():
        response = call(matrix, method, template, expect, None, "none")
        where = (method, template)
        if expect.roles == PUBLIC:
            assert_admitted(response, where)
        elif is_page(template):
            assert response.status_code == 303, where
            assert response.headers["location"].startswith("/login?next="), where
        else:
            assert response.status_code == 401, (where, response.text)
            assert assert_error_shape(response)["code"] == "not_authenticated", where


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_role_on_every_route(matrix: World, role: str) -> None:
    for (method, template), expect in EXPECTED.items():
        if expect.roles == PUBLIC:
            continue
        modes = ("token", "session") if expect.auth == "token" else ("session",)
        for mode in modes:
            where = (role, mode, method, template)
            response = call(matrix, method, template, expect, role, mode)
            if role in expect.roles:
                assert_admitted(response, where)
            else:
                assert_refused(response, template, expect.hidden, where)


def test_session_only_routes_refuse_tokens_and_tokens_are_scoped(matrix: World) -> None:
    client = matrix.client
    client.cookies.clear()
    for role in USERS:
        response = client.get("/api/v1/auth/me", headers={"authorization": f"Bearer {matrix.logins[role].token}"})
        assert response.status_code == 403 and assert_error_shape(response)["code"] == "session_required"
    # A token narrows its user's roles to its scopes: a search-only token lists no records.
    narrow = {"authorization": f"Bearer {auth.create_api_token(matrix.store, 'ana', ['search'], timedelta(hours=1))}"}
    refused = client.get("/api/v1/records", headers=narrow)
    assert refused.status_code == 401 and assert_error_shape(refused)["code"] == "token_invalid"
    assert "not scoped for records:read" in refused.json()["error"]["message"]
    assert client.get("/api/v1/search", params={"q": "x", "purpose": PURPOSE}, headers=narrow).status_code == 200
    # A token the administrator revokes over HTTP is dead at once (revoking twice is harmless).
    admin = {"authorization": f"Bearer {matrix.logins['administrator'].token}"}
    assert client.delete(f"/api/v1/auth/tokens/{matrix.ids['spare_token']}", headers=admin).status_code == 204
    revoked = client.get(
        "/api/v1/search",
        params={"q": "x", "purpose": PURPOSE},
        headers={"authorization": f"Bearer {matrix.ids['spare_token_secret']}"},
    )
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]
    # A cookie write without the CSRF token is refused.
    login = matrix.logins["analyst"]
    no_csrf = client.post(
        "/api/v1/disseminations",
        json=_fill(RELEASE_BODY, matrix.ids),
        headers={"cookie": f"fh_session={login.session}; fh_csrf={login.csrf}"},
    )
    assert no_csrf.status_code == 403 and assert_error_shape(no_csrf)["code"] == "csrf_failed"


# -- the record matrix -------------------------------------------------------------------
def _get(w: World, role: str, path: str, **params: Any) -> Any:
    w.client.cookies.clear()
    return w.client.get(path, params=params, headers={"authorization": f"Bearer {w.logins[role].token}"})


def _readable(w: World, role: str) -> set[int]:
    actor = w.actors[role]
    return {rid for rid, facts in w.grid.items() if decide_read(actor, facts).allowed}


@pytest.mark.parametrize("role", sorted(USERS))
def test_record_list_is_exactly_what_decide_read_allows(matrix: World, role: str) -> None:
    seen: set[int] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = _get(matrix, role, "/api/v1/records", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.update(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen & set(matrix.grid) == _readable(matrix, role)
    # Outside the grid too, nothing is listed that the policy refuses.
    with matrix.store.connect() as conn:
        others = conn.execute(
            select(t.record, t.source.c.sharing_terms)
            .join(t.source, t.source.c.id == t.record.c.source_id)
            .where(t.record.c.id.in_(seen - set(matrix.grid)))
        ).all()
    actor = matrix.actors[role]
    for row in others:
        facts = RecordFacts(row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms or {})
        assert decide_read(actor, facts).allowed, (role, row.id)


def _views(matrix: World, role: str, step: int) -> None:
    actor = matrix.actors[role]
    offset = sorted(USERS).index(role)
    missing_id = 10**12
    missing = _get(matrix, role, f"/api/v1/records/{missing_id}", purpose=PURPOSE)
    assert missing.status_code == 404
    for rid in sorted(matrix.grid)[offset::step]:
        verdict = decide_read(actor, matrix.grid[rid])
        response = _get(matrix, role, f"/api/v1/records/{rid}", purpose=PURPOSE)
        where = (role, rid, matrix.grid[rid])
        if verdict.allowed:
            assert response.status_code == 200, (where, response.text)
            assert response.json()["id"] == rid and NAME in response.text
            continue
        error = assert_error_shape(response)
        text = response.text
        assert NAME not in text and "Zebediah" not in text, where
        assert not set(re.findall(r"\d{2,}", error["message"])) - {str(rid), "28", "23", "20"}, where
        if verdict.may_know_exists:
            assert response.status_code == 403 and error["code"] == "access_denied", where
            assert error["message"] == f"record {rid}: {verdict.reason}", where
        else:
            # Indistinguishable from a record that does not exist: same status, code, shape and words.
            assert response.status_code == missing.status_code, where
            assert text.replace(str(rid), "ID") == missing.text.replace(str(missing_id), "ID"), where


@pytest.mark.parametrize("role", sorted(USERS))
def test_record_views_follow_decide_read_and_denials_leak_nothing(matrix: World, role: str) -> None:
    _views(matrix, role, 19)


@pytest.mark.slow
@pytest.mark.parametrize("role", sorted(USERS))
def test_every_record_view_for_every_role(matrix: World, role: str) -> None:
    _views(matrix, role, 1)


@pytest.mark.parametrize("role", sorted(USERS))
def test_search_finds_exactly_what_decide_read_allows(matrix: World, role: str) -> None:
    from fusionhub.search.follower import catch_up, engine_for

    catch_up(matrix.store, engine_for(matrix.store))  # index what the route calls above imported
    found: set[int] = set()
    total = None
    cursor = None
    while True:
        params: dict[str, Any] = {"q": f'name:"{NAME}"', "limit": 500, "purpose": PURPOSE}
        if cursor:
            params["cursor"] = cursor
        response = _get(matrix, role, "/api/v1/search", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        total = body["total"]
        found.update(hit["record_id"] for hit in body["hits"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    want = _readable(matrix, role)
    assert found == want, (role, len(found), len(want))
    assert total == len(want)
    # Facets count only what the role may read.
    assert sum(b["count"] for b in body["facets"].get("record_class", [])) == len(want)
