"""One test per page: it renders, passes axe-core (no serious or critical violations),
shows a caveat, logs no console error (a CSP violation is one), and is screenshotted."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest

from tests.web.conftest import DESKTOP, Site, Watched, check_page, screenshot, slmpd_slice

pytestmark = pytest.mark.browser


def first_record_id(site: Site) -> int:
    from fusionhub.policy.identity import actor_for
    from fusionhub.policy.reader import RecordReader

    return RecordReader(site.store, actor_for(site.store, "ana")).list(limit=1)[0].id


def wait_for_map(page: Any) -> None:
    """The base layer (88 neighbourhoods) and the record's point are drawn."""
    page.locator("#map path.leaflet-interactive").nth(88).wait_for(state="attached")


def test_login_page(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    watched.page.goto(f"{site.url}/login")
    assert watched.page.get_by_label("Username").is_visible()
    check_page(watched, "login")
    context.close()


def test_login_with_wrong_code_is_refused(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("The username, password or code is wrong")
    screenshot(page, "login-refused")
    context.close()


def test_totp_enrolment_page(site: Site, browser: Any) -> None:
    """A user without a second factor enrols at first login from the QR code's key."""
    context = browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{site.url}/login")
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("img.qr")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    check_page(watched, "totp-enrolment")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Password (again)").fill("correct horse battery staple")
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    # A code counts once: the app's next code logs in.
    assert "set up" in page.get_by_role("status").inner_text()
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_label("Authenticator code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/")
    assert "newbie" in page.locator(".whoami").inner_text()
    context.close()


def test_dashboard_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/")
    assert watched.page.get_by_role("heading", name="Data sources and their freshness").is_visible()
    assert watched.page.get_by_role("cell", name="slmpd").first.is_visible()
    check_page(watched, "dashboard")


def test_sources_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/sources")
    assert watched.page.get_by_role("cell", name="slmpd", exact=True).first.is_visible()
    check_page(watched, "sources")


def test_imports_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/imports")
    assert watched.page.get_by_label("File", exact=True).is_visible()
    check_page(watched, "imports")


def test_import_page_with_quarantine_report(site: Site, as_user: Any) -> None:
    from fusionhub.ingest.pipeline import ingest_file

    bad = slmpd_slice(site.workdir / "bad.csv", 200, 5)
    with bad.open("a", encoding="latin-1") as f:
        f.write(",2019-01,01/01/2019 10:00,Y, , ,1, ,1,1,NO COMPLAINT NUMBER,1,MAIN ST,1, , ,1,MAIN,0,0\n")
    report = ingest_file(site.store, bad, "slmpd", user="ana")
    assert report.rejected == 1
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/imports/{report.batch_id}")
    assert watched.page.get_by_role("heading", name="Quarantine report").is_visible()
    assert watched.page.get_by_role("cell", name=re.compile("no source record id")).is_visible()
    check_page(watched, "import-quarantine")


def test_records_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/records")
    assert watched.page.locator("tbody tr").count() >= 10
    check_page(watched, "records")


def test_record_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    record_id = first_record_id(site)
    watched.page.goto(f"{site.url}/records/{record_id}?purpose=case+19-0001")
    page = watched.page
    assert page.get_by_test_id("purpose").inner_text() == "case 19-0001"
    assert page.get_by_role("heading", name="Provenance").is_visible()
    assert page.get_by_role("heading", name="Version history").is_visible()
    wait_for_map(page)
    assert "TLP:" in page.locator(".caveat").first.inner_text()
    check_page(watched, "record")


def test_record_page_on_a_tablet(site: Site, as_user: Any) -> None:
    watched = as_user("ana", {"width": 820, "height": 1180})
    watched.page.goto(f"{site.url}/records/{first_record_id(site)}?purpose=officer+safety")
    wait_for_map(watched.page)
    width = watched.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, f"the page scrolls sideways on a tablet ({width}px)"
    check_page(watched, "record-tablet")


def test_record_page_asks_for_a_purpose(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    page = watched.page
    response = page.goto(f"{site.url}/records/{first_record_id(site)}")
    assert response.status == 403
    watched.errors.clear()
    check_page(watched, "purpose")
    page.get_by_label("Purpose: a case number or a reason").fill("case 19-0042")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_test_id("purpose").inner_text() == "case 19-0042"
    # The purpose is kept for the next pages.
    page.goto(f"{site.url}/records")
    page.get_by_role("link", name=str(first_record_id(site))).first.click()
    assert page.get_by_test_id("purpose").inner_text() == "case 19-0042"


def test_admin_page(site: Site, as_user: Any) -> None:
    watched = as_user("root")
    watched.page.goto(f"{site.url}/admin")
    page = watched.page
    agencies = page.get_by_role("region", name="Agencies")
    agencies.get_by_text("Add an agency").click()
    agencies.get_by_label("Code").fill("STLFD")
    agencies.get_by_label("Name").fill("St. Louis Fire Department")
    page.get_by_role("button", name="Add agency").click()
    assert page.get_by_role("status").inner_text() == "agency STLFD added"
    assert page.get_by_role("cell", name="STLFD", exact=True).is_visible()
    check_page(watched, "admin")


def test_admin_page_refuses_analysts(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    response = watched.page.goto(f"{site.url}/admin")
    assert response.status == 403
    watched.errors.clear()  # the 403 itself is logged by the browser
    check_page(watched, "error-403")


def test_not_found_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    response = watched.page.goto(f"{site.url}/records/99999999?purpose=case+19-0001")
    assert response.status == 404
    watched.errors.clear()
    check_page(watched, "error-404")


def test_audit_page(site: Site, as_user: Any) -> None:
    watched = as_user("aud")
    watched.page.goto(f"{site.url}/audit?user=ana")
    page = watched.page
    assert page.locator("tbody tr").count() >= 1
    page.get_by_role("link", name="Verify the whole chain now").click()
    assert page.get_by_test_id("chain-status").inner_text().startswith("Intact")
    check_page(watched, "audit")


def test_retention_page(site: Site, as_user: Any) -> None:
    watched = as_user("po")
    watched.page.goto(f"{site.url}/retention?within_days=3650")
    assert watched.page.get_by_role("heading", name="Retention review").is_visible()
    check_page(watched, "retention")


def test_redress_page(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    page = watched.page
    page.goto(f"{site.url}/redress")
    page.get_by_label("Record", exact=True).fill(str(first_record_id(site)))
    page.get_by_label("What is wrong").fill("the address is the victim's, not the suspect's")
    page.get_by_role("button", name="File request").click()
    assert page.get_by_role("status").inner_text().startswith("request ")
    assert page.get_by_role("cell", name="the address is the victim's, not the suspect's").is_visible()
    check_page(watched, "redress")


def test_compliance_page(site: Site, as_user: Any) -> None:
    watched = as_user("po")
    watched.page.goto(f"{site.url}/compliance")
    page = watched.page
    assert page.get_by_test_id("chain").inner_text().startswith("intact")
    page.locator("canvas.chart").first.wait_for()
    check_page(watched, "compliance")


def test_keyboard_skip_link(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    watched.page.goto(f"{site.url}/sources")
    watched.page.keyboard.press("Tab")
    focused = watched.page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    watched.page.keyboard.press("Enter")
    assert watched.page.evaluate("document.activeElement.id") == "main"
