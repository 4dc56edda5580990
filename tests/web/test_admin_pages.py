"""Administration pages: the policy page (read, history with diff, validation errors,
dry run, activation), user management on /admin, and the dashboard's recent searches.
Each page passes axe, shows a caveat, logs no console error and is screenshotted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fusionhub.policy.rules import file_policy
from fusionhub.store import policy_tables as pt
from tests import factories
from tests.web.conftest import Site, check_page, screenshot

pytestmark = pytest.mark.browser
TEXT = open(file_policy().path, encoding="utf-8").read()


def audited(site: Site, action: str, username: str) -> list[str | None]:
    e = pt.audit_event.c
    with site.store.connect() as conn:
        return list(
            conn.execute(select(e.subject).where(e.action == action, e.username == username).order_by(e.id)).scalars()
        )


def test_policy_page_for_the_privacy_officer(site: Site, as_user: Any) -> None:
    watched = as_user("po")
    page = watched.page
    page.goto(f"{site.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policy").click()
    assert page.get_by_role("heading", name="Read rules").is_visible()
    assert page.get_by_role("cell", name="partner-tlp", exact=True).is_visible()
    check_page(watched, "admin-policy")

    # A text with an unknown key is refused, every problem listed, nothing changed.
    editor = page.get_by_label("Policy (YAML)")
    editor.fill(TEXT + "\ncolour: red\n")
    page.get_by_role("button", name="Validate and dry run").click()
    alert = page.get_by_role("alert")
    assert "The policy was not changed" in alert.inner_text()
    assert "unknown section 'colour'" in alert.inner_text()
    assert editor.get_attribute("aria-invalid") == "true"
    watched.errors.clear()  # the browser logs the 422 answer
    check_page(watched, "admin-policy-invalid")

    # A valid change: dry run first, then activation with a note and the review ticked.
    changed = TEXT.replace("    - compliance audit\n", "    - compliance audit\n    - training exercise\n")
    editor = page.get_by_label("Policy (YAML)")
    editor.fill(changed)
    page.get_by_role("button", name="Validate and dry run").click()
    assert "Valid." in page.get_by_role("status").inner_text()
    assert page.get_by_role("cell", name="analyst", exact=True).is_visible()
    check_page(watched, "admin-policy-dry-run")
    page.get_by_label("Why it changes").fill("training exercises are a stated purpose")
    page.get_by_label("I reviewed the dry run").check()
    page.get_by_role("button", name="Activate").click()
    assert "is active" in page.get_by_role("status").inner_text()
    assert "training exercise" in page.locator("dl.facts").nth(3).inner_text()
    page.get_by_role("link", name="diff from 1").click()
    assert "+    - training exercise" in page.locator("pre.diff").inner_text()
    check_page(watched, "admin-policy-history-diff")
    assert audited(site, "policy.change", "po") == ["policy"]

    # Back to the packaged text, so the other pages of this run see the shipped policy.
    page.get_by_label("Policy (YAML)").fill(TEXT)
    page.get_by_label("Why it changes").fill("exercise over")
    page.get_by_label("I reviewed the dry run").check()
    page.get_by_role("button", name="Activate").click()
    assert "version 3 is active" in page.get_by_role("status").inner_text()


def test_policy_page_is_read_only_for_administrators_and_closed_to_analysts(site: Site, as_user: Any) -> None:
    watched = as_user("root")
    page = watched.page
    page.goto(f"{site.url}/admin/policy")
    assert page.get_by_role("heading", name="Read rules").is_visible()
    assert page.get_by_label("Policy (YAML)").count() == 0
    assert "Only the privacy officer changes the policy" in page.locator("main").inner_text()
    check_page(watched, "admin-policy-read-only")
    analyst = as_user("ana").page
    assert analyst.goto(f"{site.url}/admin/policy").status == 403


def test_user_management_on_the_admin_page(site: Site, as_user: Any) -> None:
    from datetime import timedelta

    from fusionhub.policy import auth

    factories.user(site.store, "temp1", "SLMPD", ("analyst",))
    auth.create_api_token(site.store, "temp1", ["search"], timedelta(days=5), name="nightly export")
    watched = as_user("root")
    page = watched.page
    page.goto(f"{site.url}/admin")
    page.get_by_role("link", name="Manage temp1").click()
    manage = page.locator("#manage")
    assert manage.get_by_role("heading", name="Manage temp1").is_visible()
    check_page(watched, "admin-user-manage")

    manage.get_by_label("supervisor").check()
    manage.get_by_role("button", name="Save roles").click()
    assert page.get_by_role("status").inner_text() == "user temp1 now holds: analyst, supervisor"
    page.locator("#manage").get_by_label("P/CRCL training date").fill("2026-05-01")
    page.locator("#manage").get_by_role("button", name="Record training").click()
    assert "training recorded on 2026-05-01" in page.get_by_role("status").inner_text()

    # Destructive actions need the confirmation ticked (the browser refuses the form until it is).
    manage = page.locator("#manage")
    manage.get_by_role("button", name="Revoke token").click()
    assert "Manage temp1" in page.locator("#manage h3").first.inner_text()
    assert audited(site, "token.revoke", "root") == []
    manage.get_by_role("row", name="nightly export").get_by_label("confirm").check()
    manage.get_by_role("button", name="Revoke token").click()
    assert "revoked" in page.get_by_role("status").inner_text()
    page.locator("#manage").get_by_label("I confirm: disable temp1").check()
    page.locator("#manage").get_by_role("button", name="Disable account").click()
    assert "disabled" in page.get_by_role("status").inner_text()
    assert page.locator("#manage").get_by_role("button", name="Enable account").is_visible()
    check_page(watched, "admin-user-disabled")
    page.locator("#manage").get_by_role("button", name="Enable account").click()
    assert page.get_by_role("status").inner_text() == "user temp1 enabled"

    assert audited(site, "permission.change", "root")[-1] == "user:temp1"
    assert audited(site, "user.training", "root")[-1] == "user:temp1"
    assert audited(site, "token.revoke", "root") == ["user:temp1"]
    assert audited(site, "user.disable", "root") == ["user:temp1"]


def test_dashboard_shows_only_your_own_recent_searches(site: Site, as_user: Any) -> None:
    watched = as_user("ana")
    page = watched.page
    page.goto(f"{site.url}/search?q=source%3Aslmpd&purpose=case+19-0777")
    page.goto(f"{site.url}/")
    searches = page.get_by_role("region", name="Your recent searches")
    row = searches.get_by_role("row").filter(has_text="case 19-0777").first
    assert "source:slmpd" in row.inner_text()
    check_page(watched, "dashboard-recent-searches")
    row.get_by_role("link", name="Run again the search source:slmpd").click()
    assert page.get_by_label("Query").input_value() == "source:slmpd"
    screenshot(page, "dashboard-search-rerun")

    other = as_user("po").page  # not eve: the flow test logs eve in itself (a TOTP code counts once)
    other.goto(f"{site.url}/")
    assert "case 19-0777" not in other.get_by_role("region", name="Your recent searches").inner_text()
