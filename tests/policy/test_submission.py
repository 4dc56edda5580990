"""The criminal predicate and the First Amendment guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusionhub.ingest.pipeline import ingest_file
from fusionhub.policy.submission import (
    PROTECTED,
    FirstAmendmentRefused,
    PredicateMissing,
    SubmissionBasis,
    SubmissionRefused,
    check_submission,
    privacy_flags,
    submit_record,
)
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import make_source

FACTS = "Subject was seen photographing the loading dock access codes twice and asked guards about shift changes."


def test_criminal_intelligence_needs_a_predicate() -> None:
    with pytest.raises(PredicateMissing):
        check_submission("criminal-intelligence", SubmissionBasis(FACTS))
    with pytest.raises(PredicateMissing):
        check_submission("criminal-intelligence", SubmissionBasis(FACTS, "jaywalking"))
    with pytest.raises(SubmissionRefused):
        check_submission("criminal-intelligence", SubmissionBasis("", "narcotics"))
    assert check_submission("criminal-intelligence", SubmissionBasis(FACTS, "terrorism")).flags == []


def test_protected_activity_alone_is_refused() -> None:
    only_protest = SubmissionBasis(
        "Subject organised a large protest at city hall against the mayor.", None, ["assembly"]
    )
    with pytest.raises(FirstAmendmentRefused) as refused:
        check_submission("sar", only_protest)
    assert "criminal or threat nexus" in str(refused.value)
    with pytest.raises(FirstAmendmentRefused):
        check_submission(
            "tip",
            SubmissionBasis(
                "Family recently arrived and attends the new mosque daily.", None, ["religion", "national-origin"]
            ),
        )


def test_protected_activity_with_nexus_passes() -> None:
    basis = SubmissionBasis(
        "Subject posted that he will bring a rifle to the rally and shoot counter-protesters.",
        None,
        ["assembly", "speech"],
        "Explicit threat to shoot people at the rally on 3 May, with a named weapon.",
    )
    assert check_submission("sar", basis).flags == []


def test_protected_wording_without_nexus_is_flagged_not_refused() -> None:
    result = check_submission(
        "sar", SubmissionBasis("Man handing out flyers near the synagogue every Saturday morning.")
    )
    assert result.wording and any("without a stated criminal or threat nexus" in f for f in result.flags)


def test_nexus_without_criminal_element_is_flagged() -> None:
    basis = SubmissionBasis(
        "Group gathers at the park each week to pray loudly.",
        None,
        ["religion"],
        "They are very loud and people in the neighbourhood are uncomfortable.",
    )
    assert "the stated nexus names no criminal or threat element" in check_submission("sar", basis).flags


@given(categories=st.lists(st.sampled_from(PROTECTED), min_size=1, unique=True), nexus=st.text(max_size=19))
def test_any_protected_declaration_without_a_real_nexus_is_refused(categories: list[str], nexus: str) -> None:
    with pytest.raises(FirstAmendmentRefused):
        check_submission("sar", SubmissionBasis(FACTS, None, categories, nexus))


def test_refusal_is_recorded_for_the_privacy_officer_without_content(store: Store) -> None:
    make_source(store, "sar-in", "PD1", {}, kind="sar-intake")
    field = factories.user(store, "fay", roles=("field-user",))
    privacy = factories.user(store, "pat", roles=("privacy-officer",))
    with pytest.raises(FirstAmendmentRefused):
        submit_record(
            store,
            field,
            "sar-in",
            "sar",
            SubmissionBasis("Subject leads prayer at the Elm Street mosque every Friday.", None, ["religion"]),
            persons=["Yusuf Example"],
        )
    rid = submit_record(
        store,
        field,
        "sar-in",
        "sar",
        SubmissionBasis(
            "Woman photographing the refinery fence and gates from a parked car, then fled when approached."
        ),
        persons=["Ann Example"],
        narrative="Seen near the rally permit office earlier.",
    )
    flags = privacy_flags(store, privacy)
    kinds = [f["kind"] for f in flags]
    assert kinds == ["first-amendment-refusal", "protected-wording"]
    assert "Yusuf" not in str(flags) and "Elm Street" not in str(flags)
    assert flags[1]["record_id"] == rid


def test_ingest_refuses_criminal_intelligence_without_predicate(store: Store, tmp_path: Path) -> None:
    profile = tmp_path / "ci.yaml"
    profile.write_text(
        'name: ci\nformat: csv\nrecord:\n  id: "{id}"\nentities:\n  person:\n    schema: Person\n'
        "    properties:\n      name: name\n"
    )
    factories.source(store, "intel-file", kind="intelligence", profile=str(profile))
    data = tmp_path / "ci.csv"
    data.write_text("id,name\n1,Otto Fence\n")
    report = ingest_file(store, data, "intel-file")
    assert report.stored == 0 and report.rejected == 1
    assert "criminal predicate" in report.quarantine_sample[0]["reason"]
