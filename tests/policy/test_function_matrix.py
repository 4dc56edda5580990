"""Every role against every policy-domain data-access function beyond RecordReader.

Expected outcomes come from docs/policy.md in plain words; a refusal must carry no
record content.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from fusionhub.policy import audit, compliance, dissemination, emergency, redress, retention, submission
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import AuditForbidden
from fusionhub.policy.identity import add_user
from fusionhub.policy.reader import AccessDenied
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import make_record, make_source

NAME = "Philomena Quist"
ROLES = ("analyst", "supervisor", "privacy-officer", "field-user", "partner", "auditor", "administrator")
BASIS = submission.SubmissionBasis(
    "Subject sold two stolen handguns from a car boot in the mall car park on 3 May.", "weapons-trafficking"
)

Call = Callable[[Store, Actor, dict[str, int]], Any]
#: function -> (call, roles allowed)
FUNCTIONS: dict[str, tuple[Call, set[str]]] = {
    "audit.query": (lambda s, a, ids: audit.query(s, a, record_id=ids["incident"]), {"auditor", "privacy-officer"}),
    "compliance.build_report": (lambda s, a, ids: compliance.build_report(s, a), {"auditor", "privacy-officer"}),
    "retention.review_queue": (
        lambda s, a, ids: retention.review_queue(s, a),
        {"analyst", "supervisor", "privacy-officer"},
    ),
    "retention.validate": (
        lambda s, a, ids: retention.validate(s, a, ids["ci"], "active investigation 24-001"),
        {"supervisor", "privacy-officer"},
    ),
    "retention.purge_log": (
        lambda s, a, ids: retention.purge_log(s, a),
        {"supervisor", "privacy-officer", "auditor"},
    ),
    "retention.run": (lambda s, a, ids: retention.run(s, a), {"supervisor", "privacy-officer", "administrator"}),
    "dissemination.disseminate": (
        lambda s, a, ids: dissemination.disseminate(s, a, [ids["incident"]], "PD2", "Det. Kim", "case 24-001"),
        {"analyst", "supervisor", "privacy-officer"},
    ),
    "dissemination.dissemination_log": (
        lambda s, a, ids: dissemination.dissemination_log(s, a),
        {"supervisor", "privacy-officer", "auditor"},
    ),
    "dissemination.record_agreement": (
        lambda s, a, ids: dissemination.record_agreement(s, a, "PD2", date(2099, 1, 1), "MOU 7"),
        {"administrator"},
    ),
    "emergency.release_assessment": (
        lambda s, a, ids: emergency.release_assessment(
            s,
            a,
            [ids["ci"]],
            "A person named in our holdings plans to set fire to the depot tonight.",
            danger="life",
            justification="fire planned for tonight at an occupied depot",
            supervisor="boss",
            recipient_person="Chief Ray",
            recipient_organization="City Fire Department",
        ),
        {"analyst", "supervisor", "privacy-officer"},
    ),
    "emergency.emergency_releases": (
        lambda s, a, ids: emergency.emergency_releases(s, a),
        {"supervisor", "privacy-officer", "auditor"},
    ),
    "emergency.review_queue": (
        lambda s, a, ids: emergency.review_queue(s, a),
        {"supervisor", "privacy-officer"},
    ),
    "redress.request_correction": (
        lambda s, a, ids: redress.request_correction(s, a, ids["incident"], "date of birth is wrong"),
        {"analyst", "supervisor", "privacy-officer", "field-user"},
    ),
    "submission.submit_record(criminal-intelligence)": (
        lambda s, a, ids: submission.submit_record(s, a, f"intel-{a.agency}", "criminal-intelligence", BASIS),
        {"analyst", "supervisor"},
    ),
    "submission.privacy_flags": (
        lambda s, a, ids: submission.privacy_flags(s, a),
        {"privacy-officer", "auditor"},
    ),
}


@pytest.fixture
def world(store: Store) -> tuple[Store, dict[str, int], dict[str, Actor]]:
    factories.agreement(store, "PD2")
    factories.agency(store, "CORP", "private-sector")
    rms = make_source(store, "rms", "PD1", {"law_enforcement_only": True})
    make_source(store, "intel-PD1", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    make_source(store, "intel-CORP", "CORP", {}, kind="intelligence")
    actors = {
        role: add_user(store, role, "CORP" if role == "partner" else "PD1", [role], training_date=None)
        for role in ROLES
    }
    add_user(store, "boss", "PD1", ["supervisor"])
    ids = {
        "incident": make_record(store, rms, name=NAME),
        "ci": submission.submit_record(
            store, actors["analyst"], "intel-PD1", "criminal-intelligence", BASIS, persons=[NAME]
        ),
    }
    return store, ids, actors


def test_every_role_against_every_function(world: tuple[Store, dict[str, int], dict[str, Actor]]) -> None:
    store, ids, actors = world
    for name, (call, allowed) in FUNCTIONS.items():
        for role, actor in actors.items():
            if role in allowed:
                call(store, actor, ids)
                continue
            with pytest.raises((AccessDenied, AuditForbidden)) as refused:
                call(store, actor, ids)
            assert NAME not in str(refused.value) and "handguns" not in str(refused.value), (name, role)
