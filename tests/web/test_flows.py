"""End-to-end flows in the browser, and the air-gap check: no request leaves the app's origin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import DESKTOP, Linked, Site, Watched, log_in, screenshot, slmpd_slice

pytestmark = pytest.mark.browser


def test_login_upload_watch_it_land_open_a_record_and_see_the_audit_event(
    site: Site, browser: Any, as_user: Any
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    watched = Watched(context.new_page())
    page = watched.page
    # Log in with the TOTP code.
    log_in(page, site, "eve")
    screenshot(page, "flow-1-logged-in")
    # Upload a real SLMPD file and watch the import land.
    upload = slmpd_slice(site.workdir / "flow.csv", 400, 40)
    page.goto(f"{site.url}/imports")
    page.get_by_label("Source").select_option("slmpd")
    page.get_by_label("File", exact=True).set_input_files(str(upload))
    page.get_by_role("button", name="Upload and import").click()
    status = page.get_by_test_id("job-status")
    status.filter(has_text="done").wait_for(timeout=120_000)
    screenshot(page, "flow-2-import-landed")
    page.get_by_test_id("batch-link").click()
    assert page.get_by_role("heading", name="Quarantine report").is_visible()
    batch_id = int(page.url.rsplit("/", 1)[1])
    screenshot(page, "flow-3-import-report")
    # Search, when the search domain is part of this build.
    if page.get_by_role("link", name="Search").count():
        page.get_by_role("link", name="Search").click()
        page.get_by_label("Query").fill("source:slmpd")
        page.get_by_label("Purpose").fill("case 19-0400")
        page.get_by_role("button", name="Search").click()
        assert int(page.get_by_test_id("total").inner_text()) >= 1
        screenshot(page, "flow-4-search")
    # Open one of the records of that import, stating the purpose.
    from fusionhub.policy.identity import actor_for
    from fusionhub.policy.reader import RecordReader

    views = RecordReader(site.store, actor_for(site.store, "eve")).list(limit=1000)
    record_id = next(v.id for v in views if v.batch_id == batch_id)
    page.goto(f"{site.url}/records/{record_id}")
    watched.errors.clear()  # the purpose form answers 403 until a purpose is stated
    purpose_box = page.get_by_label("Purpose: a case number or a reason")
    if purpose_box.count():  # the purpose stated with the search carries over to the view
        purpose_box.fill("case 19-0400")
        page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="Provenance").is_visible()
    assert f"batch {batch_id}" in page.locator("dl.facts").first.inner_text()
    screenshot(page, "flow-5-record")
    context.close()
    # The auditor sees that view, with who and why.
    # (one login per user and run: a TOTP code is accepted once)
    audit_page = as_user("aud").page
    audit_page.goto(f"{site.url}/audit?record_id={record_id}")
    row = audit_page.locator("tbody tr", has_text="record.view").filter(has_text="eve")
    assert "case 19-0400" in row.first.inner_text()
    screenshot(audit_page, "flow-6-audit-event")
    assert watched.errors == [], watched.errors


PAGES = {
    "ana": ["/", "/sources", "/imports", "/records", "/records/1?purpose=case+19-0001", "/search?q=slmpd"],
    "root": ["/admin"],
    "aud": ["/audit"],
    "po": ["/retention", "/disseminations"],
}


def test_every_page_loads_with_the_network_blocked_outside_the_app(
    site: Site, browser: Any, as_user: Any, linked: Linked
) -> None:
    """Air-gapped: every script, style, font, tile and fetch comes from the app's own origin."""
    origin = urlsplit(site.url)
    fusion = ["/graph", f"/graph?entity={linked['ann']}", f"/entities/{linked['bob']}?purpose=case+24-001"]
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    visited = 0
    for name, paths in {**PAGES, "ana": PAGES["ana"] + fusion}.items():
        watched = as_user(name)
        watched.page.context.route("**/*", guard)
        for path in paths:
            watched.page.goto(f"{site.url}{path}")
            watched.page.wait_for_load_state("networkidle")
            visited += 1
    assert visited >= 8
    assert outside == [], outside
