"""Dissemination rules of 28 CFR 23.20(e)-(g): recipients with a participation agreement,
the dissemination log, and the emergency assessment path of 23.20(f)(2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.model.types import InvalidValue
from fusionhub.policy import compliance, emergency
from fusionhub.policy.audit import query, verify
from fusionhub.policy.dissemination import agreements, disseminate, dissemination_log, record_agreement
from fusionhub.policy.reader import AccessDenied, NotFound
from fusionhub.policy.submission import SubmissionBasis, submit_record
from fusionhub.store import Store, utcnow
from fusionhub.store import dissemination_tables as dt
from fusionhub.store import policy_tables as pt
from tests import factories
from tests.policy.conftest import make_record, make_source

NARRATIVE = "Subject keeps a stockpile of stolen rifles in the blue shed behind 14 Larch Road for resale."
BASIS = SubmissionBasis("Informant B2 reports the subject sells stolen rifles from a shed.", "weapons-trafficking")
ASSESSMENT = "We assess that a person in our holdings intends to fire on staff at the depot this evening."


def _world(store: Store) -> dict[str, Any]:
    make_source(store, "intel", "PD1", {"law_enforcement_only": True}, kind="intelligence")
    rms = make_source(store, "rms", "PD1", {})
    ana = factories.user(store, "ana")
    sue = factories.user(store, "sue", roles=("supervisor",))
    ci = submit_record(store, ana, "intel", "criminal-intelligence", BASIS, persons=["Otto Fence"], narrative=NARRATIVE)
    incident = make_record(store, rms, name="Jane Roe")
    return {"ana": ana, "sue": sue, "ci": ci, "incident": incident}


def test_recipient_without_a_current_agreement_is_refused_and_the_refusal_audited(store: Store) -> None:
    w = _world(store)
    factories.agency(store, "PD2")
    with pytest.raises(AccessDenied, match="participation agreement"):
        disseminate(store, w["ana"], [w["ci"]], "PD2", "Det. Kim", "joint case 24-001")
    refused = query(store, factories.user(store, "po", roles=("privacy-officer",)), action="dissemination.refused")
    assert len(refused) == 1 and "Otto" not in str(refused[0].to_json())
    # An agreement that has ended does not count; a renewal does.
    with store.begin() as conn:
        conn.execute(
            dt.participation_agreement.insert().values(
                agency_id=factories_agency_id("PD2").scalar_subquery(),
                reference="MOU 2019",
                valid_until=date(2020, 1, 1),
                recorded_by="x",
                recorded_at=utcnow(),
            )
        )
    with pytest.raises(AccessDenied, match="participation agreement"):
        disseminate(store, w["ana"], [w["ci"]], "PD2", "Det. Kim", "joint case 24-001")
    admin = factories.user(store, "root", roles=("administrator",))
    with pytest.raises(AccessDenied):
        record_agreement(store, w["ana"], "PD2", date(2099, 1, 1), "MOU 7")
    with pytest.raises(InvalidValue):
        record_agreement(store, admin, "PD2", date(2020, 1, 1), "MOU 7")
    record_agreement(store, admin, "PD2", date(2099, 1, 1), "MOU 7")
    assert agreements(store)["PD2"].reference == "MOU 7"
    done = disseminate(store, w["ana"], [w["ci"]], "PD2", "Det. Kim", "joint case 24-001")
    assert done.record_ids == [w["ci"]]
    log = dissemination_log(store, w["sue"])
    assert [(r["record_id"], r["recipient_agency"], r["recipient_person"]) for r in log] == [
        (w["ci"], "PD2", "Det. Kim")
    ]
    assert verify(store).ok


def factories_agency_id(code: str) -> Any:
    from fusionhub.store import tables as t

    return select(t.agency.c.id).where(t.agency.c.code == code)


def test_criminal_intelligence_goes_only_to_law_enforcement_even_with_an_agreement(store: Store) -> None:
    w = _world(store)
    factories.agreement(store, "FIRE", "fire-ems")
    with pytest.raises(AccessDenied, match="emergency assessment"):
        disseminate(store, w["ana"], [w["ci"]], "FIRE", "Chief Ray", "joint case 24-001")
    # Other classes may go to an agency with an agreement.
    disseminate(store, w["ana"], [w["incident"]], "FIRE", "Chief Ray", "joint case 24-001")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pt.dissemination)).scalar_one() == 1


def test_a_release_is_all_or_nothing(store: Store) -> None:
    w = _world(store)
    factories.agreement(store, "PD2")
    with pytest.raises(NotFound):
        disseminate(store, w["ana"], [w["incident"], 999_999], "PD2", "Det. Kim", "joint case 24-001")
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pt.dissemination)).scalar_one() == 0


def _emergency(store: Store, w: dict[str, Any], **changes: Any) -> emergency.EmergencyRelease:
    args: dict[str, Any] = {
        "danger": "life",
        "justification": "shots planned for tonight at an occupied depot",
        "supervisor": "sue",
        "recipient_person": "Ms. Vale, site manager",
        "recipient_organization": "Depot Logistics Inc.",
    }
    args.update(changes)
    record_ids = args.pop("record_ids", [w["ci"]])
    text = args.pop("assessment", ASSESSMENT)
    actor = args.pop("actor", w["ana"])
    return emergency.release_assessment(store, actor, record_ids, text, **args)


def test_emergency_assessment_to_a_non_law_enforcement_recipient(store: Store) -> None:
    w = _world(store)
    po = factories.user(store, "po", roles=("privacy-officer",))
    aud = factories.user(store, "aud", roles=("auditor",))
    done = _emergency(store, w)
    assert done.review_status == "open" and done.supervisor == "sue" and not done.overdue
    assert done.review_due.startswith((utcnow() + timedelta(hours=emergency.REVIEW_HOURS)).date().isoformat())
    # The task is in the named supervisor's queue, the privacy officer's, and the compliance report.
    assert [r.id for r in emergency.review_queue(store, w["sue"])] == [done.id]
    assert [r.id for r in emergency.review_queue(store, po)] == [done.id]
    other = factories.user(store, "sam", roles=("supervisor",))
    assert emergency.review_queue(store, other) == []
    report = compliance.build_report(store, aud)
    assert report["emergency_releases"]["reviews_open"] == 1
    assert report["emergency_releases"]["open_reviews"][0]["supervisor"] == "sue"
    late = compliance.build_report(store, aud, now=utcnow() + timedelta(hours=emergency.REVIEW_HOURS + 1))
    assert late["emergency_releases"]["reviews_overdue"] == 1
    # Only the named supervisor reviews it; once.
    with pytest.raises(AccessDenied):
        emergency.review(store, other, done.id, "upheld", "necessary to protect staff")
    with pytest.raises(AccessDenied):
        emergency.review(store, po, done.id, "upheld", "necessary to protect staff")
    reviewed = emergency.review(store, w["sue"], done.id, "unwarranted", "danger was not imminent")
    assert reviewed.review_status == "unwarranted" and reviewed.reviewed_by == "sue"
    with pytest.raises(InvalidValue):
        emergency.review(store, w["sue"], done.id, "upheld", "changed my mind")
    assert emergency.review_queue(store, w["sue"]) == []
    after = compliance.build_report(store, aud)["emergency_releases"]
    assert after["reviews_open"] == 0 and after["reviewed_unwarranted"] == 1
    with store.connect() as conn:
        flags = conn.execute(select(pt.privacy_flag.c.kind)).scalars().all()
    assert "emergency-release-unwarranted" in flags
    actions = [e.action for e in query(store, aud, action="dissemination.emergency*")]
    assert actions == ["dissemination.emergency", "dissemination.emergency.review"]
    assert verify(store).ok


def test_emergency_path_refuses_the_raw_record(store: Store) -> None:
    w = _world(store)
    with pytest.raises(AccessDenied, match="never the record"):
        _emergency(store, w, assessment=f"Forwarding the file: {NARRATIVE}")
    # Case and spacing do not hide a copy.
    with pytest.raises(AccessDenied, match="never the record"):
        _emergency(store, w, assessment="FYI " + "  ".join(NARRATIVE.upper().split()))
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dt.emergency_release)).scalar_one() == 0
    refused = query(store, factories.user(store, "aud", roles=("auditor",)), action="dissemination.emergency.refused")
    assert len(refused) == 2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"danger": "reputation"}, InvalidValue),
        ({"justification": "  "}, InvalidValue),
        ({"assessment": "see file"}, InvalidValue),
        ({"supervisor": "ana"}, InvalidValue),  # not a supervisor
        ({"supervisor": "nobody"}, InvalidValue),
        ({"recipient_person": " "}, InvalidValue),
        ({"record_ids": []}, InvalidValue),
        ({"record_ids": [987_654]}, NotFound),
    ],
)
def test_emergency_release_requirements(store: Store, change: dict[str, Any], error: type[Exception]) -> None:
    w = _world(store)
    with pytest.raises(error):
        _emergency(store, w, **change)


def test_emergency_release_needs_another_supervisor_of_the_agency_and_a_disseminating_role(store: Store) -> None:
    w = _world(store)
    with pytest.raises(InvalidValue, match="other than yourself"):
        _emergency(store, w, actor=w["sue"])
    factories.user(store, "pat", "PD2", roles=("supervisor",))
    with pytest.raises(InvalidValue, match="your agency"):
        _emergency(store, w, supervisor="pat")
    for role in ("field-user", "auditor", "administrator"):
        with pytest.raises(AccessDenied):
            _emergency(store, w, actor=factories.user(store, f"u-{role}", roles=(role,)))


# -- the raw-record test is a rule, not a keyword list: properties -------------------
PASSAGE = st.text(alphabet=st.characters(categories=("L", "N", "Zs", "P")), min_size=0, max_size=60)


@given(prefix=PASSAGE, suffix=PASSAGE, value=st.text(min_size=emergency.RAW_TEXT_MIN, max_size=80))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_long_record_passage_copied_into_an_assessment_is_found(prefix: str, suffix: str, value: str) -> None:
    folded = " ".join(value.split())
    payload = {"entities": [{"properties": {"note": [value]}}]}
    found = emergency.reproduced_text(prefix + " " + value + " " + suffix, payload)
    if len(folded) >= emergency.RAW_TEXT_MIN:
        assert found is not None
    else:  # whitespace folded below the threshold: short values (a name) may be quoted
        assert found is None or len(found) >= emergency.RAW_TEXT_MIN


@given(text=PASSAGE, names=st.lists(st.text(min_size=1, max_size=emergency.RAW_TEXT_MIN - 1), max_size=5))
@settings(max_examples=200)
def test_short_values_such_as_names_may_appear_in_an_assessment(text: str, names: list[str]) -> None:
    payload = {"entities": [{"properties": {"name": names}}]}
    assert emergency.reproduced_text(text + " " + " ".join(names), payload) is None


def test_cli_agreement_release_emergency_log_and_review(store: Store) -> None:
    w = _world(store)
    factories.user(store, "root", roles=("administrator",))
    factories.user(store, "po", roles=("privacy-officer",))
    runner = CliRunner()

    def run(user: str, *args: str, stdin: str | None = None) -> Any:
        return runner.invoke(app, ["--store", store.url, "--as", user, *args], input=stdin)

    added = run("root", "agency", "add", "PD9", "--agreement-until", "2099-06-30", "--agreement-ref", "MOU 9")
    assert added.exit_code == 0, added.output
    listed = run("root", "agency", "list")
    assert "PD9" in listed.output and "agreement until 2099-06-30" in listed.output
    assert run("ana", "agency", "agreement", "PD9", "--until", "2099-01-01", "--reference", "x").exit_code == 5
    released = run("ana", "disseminate", "release", str(w["ci"]), "--to-agency", "PD9", "--to-person", "Det. Kim",
                   "--reason", "joint case 24-001")  # fmt: skip
    assert released.exit_code == 0, released.output
    refused = run("ana", "disseminate", "emergency", str(w["ci"]), "--danger", "life", "--justification",
                  "shots planned tonight", "--supervisor", "sue", "--to-person", "Ms. Vale",
                  "--to-organization", "Depot Logistics", stdin=NARRATIVE)  # fmt: skip
    assert refused.exit_code == 5 and "never the record" in refused.output and "Larch" not in refused.output
    ok = run("ana", "disseminate", "emergency", str(w["ci"]), "--danger", "life", "--justification",
             "shots planned tonight", "--supervisor", "sue", "--to-person", "Ms. Vale",
             "--to-organization", "Depot Logistics", "--assessment", ASSESSMENT, "--json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    queue = run("sue", "disseminate", "reviews")
    assert queue.exit_code == 0 and "Depot Logistics" in queue.output
    log = run("po", "disseminate", "log")
    assert "Det. Kim" in log.output and "EMERGENCY" in log.output
    assert run("ana", "disseminate", "log").exit_code == 5
    release_id = emergency.emergency_releases(store, w["sue"])[0].id
    reviewed = run("sue", "disseminate", "review", str(release_id), "--outcome", "upheld", "--note", "necessary")
    assert reviewed.exit_code == 0 and "upheld" in reviewed.output
    report = run("po", "compliance", "report")
    assert '"emergency_releases"' in report.output and '"reviews_open": 0' in report.output
