"""The dissemination page: release form from the record's "Disseminate" button, the
emergency assessment form, the supervisor's post-hoc review queue and the log."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.web.conftest import Site, check_page
from tests.web.test_pages import first_record_id
from tests.weblogin import account

pytestmark = pytest.mark.browser
ASSESSMENT = "We assess that a person seen in these incidents intends to set fire to the warehouse tonight."


@pytest.fixture
def supervisor(site: Site) -> str:
    if "sup" not in site.secrets:
        site.secrets["sup"] = account(site.store, "sup", ("supervisor",), "SLMPD")
        factories.agreement(site.store, "PD2")
    return "sup"


def test_release_and_emergency_from_the_record_page(site: Site, as_user: Any, supervisor: str) -> None:
    watched = as_user("ana")
    page = watched.page
    record_id = first_record_id(site)
    page.goto(f"{site.url}/records/{record_id}?purpose=case+19-0001")
    page.get_by_role("link", name="Disseminate").click()
    page.wait_for_url(f"{site.url}/disseminations?record_id={record_id}")
    assert page.get_by_label("Record ids", exact=True).input_value() == str(record_id)
    assert "TLP:" in page.locator(".caveat").first.inner_text()
    check_page(watched, "disseminations-form")
    release = page.get_by_role("region", name="Release records")
    release.get_by_label("Recipient agency").select_option("PD2")
    release.get_by_label("Recipient (name, title)").fill("Det. Kim, PD2 burglary unit")
    release.get_by_label("Reason").fill("joint case 19-0001")
    release.get_by_role("button", name="Disseminate").click()
    assert page.get_by_role("status").inner_text().startswith("released 1 record(s) to Det. Kim")
    form = page.get_by_role("region", name="Emergency assessment (imminent danger)")
    assert form.get_by_label("Record ids the assessment rests on").input_value() == str(record_id)
    form.get_by_label("Your assessment").fill(ASSESSMENT)
    form.get_by_label("Imminent danger to").select_option("property")
    form.get_by_label("Why the danger is imminent").fill("arson planned for tonight")
    form.get_by_label("Supervisor who reviews it").select_option(supervisor)
    form.get_by_label("Recipient (name, title)").fill("Ms. Vale, site manager")
    form.get_by_label("Recipient's organization").fill("Riverside Storage LLC")
    form.get_by_role("button", name="Release assessment").click()
    assert page.get_by_role("status").inner_text().startswith("emergency assessment ")


def test_supervisor_reviews_the_emergency_release(site: Site, as_user: Any, supervisor: str) -> None:
    from fusionhub.policy import emergency
    from fusionhub.policy.identity import actor_for

    ana = actor_for(site.store, "ana")
    done = emergency.release_assessment(
        site.store,
        ana,
        [first_record_id(site)],
        ASSESSMENT,
        danger="life",
        justification="shots planned for tonight at the depot",
        supervisor=supervisor,
        recipient_person="Mr. Oduya, security chief",
        recipient_organization="Depot Logistics Inc.",
    )
    watched = as_user(supervisor)
    page = watched.page
    page.goto(f"{site.url}/disseminations")
    queue = page.get_by_role("region", name="Post-hoc reviews of emergency releases")
    assert queue.get_by_role("cell", name="Mr. Oduya, security chief (Depot Logistics Inc.)").is_visible()
    assert page.get_by_role("region", name="Dissemination log").is_visible()
    check_page(watched, "disseminations")
    queue.get_by_label(f"Review note for emergency release {done.id}").fill("danger was real; release was necessary")
    row = queue.get_by_role("row").filter(has_text="Mr. Oduya")
    row.get_by_role("button", name="Upheld").click()
    assert page.get_by_role("status").inner_text() == f"emergency release {done.id} reviewed: upheld"


def test_auditor_reads_the_log_but_releases_nothing(site: Site, as_user: Any) -> None:
    watched = as_user("aud")
    page = watched.page
    page.goto(f"{site.url}/disseminations")
    assert page.get_by_role("region", name="Dissemination log").is_visible()
    assert page.get_by_role("region", name="Release records").count() == 0
    check_page(watched, "disseminations-auditor")
