"""The fusion pages in the browser: an entity's fused profile and the link chart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Linked, Site, check_page

pytestmark = pytest.mark.browser
HIDDEN_PHONE = "6185559999"  # stated only by PD2's agency-only record


def chart_count(page: Any, what: str = "nodes") -> int:
    return int(page.locator("#chart").get_attribute(f"data-{what}") or 0)


def edge_kinds(page: Any) -> set[str]:
    return set(page.evaluate("() => document.getElementById('chart').cy.edges().map(e => e.data('kind'))"))


def test_entity_page(site: Site, as_user: Any, linked: Linked) -> None:
    watched = as_user("ana")
    page = watched.page
    page.goto(f"{site.url}/entities/{linked['bob']}?purpose=case+24-001")
    assert page.get_by_test_id("purpose").inner_text() == "case 24-001"
    assert page.get_by_test_id("entity-id").inner_text() == linked["bob"]
    # Two records of the shared source; nothing of PD2's agency-only record.
    assert page.get_by_test_id("record-count").inner_text() == "2"
    assert HIDDEN_PHONE not in page.content() and "secret record" not in page.content()
    # The birth date the two records disagree on, side by side, each with its source.
    conflict = page.get_by_test_id("conflict-birthDate")
    assert conflict.locator(".value-card").count() == 2
    assert page.get_by_role("heading", name="Why these records were joined").is_visible()
    assert page.get_by_test_id("join").count() >= 1
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert page.get_by_role("link", name="rms record").count() >= 2
    assert page.get_by_test_id("chart-link").get_attribute("href") == f"/graph?entity={linked['bob']}"
    assert "TLP:" in page.locator(".caveat").first.inner_text()
    check_page(watched, "entity")
    # An analyst's decision from the page: audited, listed, in force from the next run.
    page.get_by_text("Split out").first.click()
    page.get_by_label("Why is record").first.fill("a namesake: different tattoos in the booking photos")
    page.get_by_role("button", name="Split record").first.click()
    assert "recorded" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("cell", name="a namesake: different tattoos in the booking photos").is_visible()


def test_entity_page_asks_for_a_purpose_and_links_from_the_record(site: Site, as_user: Any, linked: Linked) -> None:
    watched = as_user("eve")
    page = watched.page
    response = page.goto(f"{site.url}/entities/{linked['ann']}")
    assert response.status == 403
    watched.errors.clear()
    page.get_by_label("Purpose: a case number or a reason").fill("case 24-002")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_test_id("entity-id").inner_text() == linked["ann"]
    # From a record of the entity back to the profile.
    page.get_by_role("link", name="rms record").first.click()
    page.get_by_role("link", name="Fused profile of this person").first.click()
    assert page.get_by_test_id("entity-id").inner_text() == linked["ann"]
    # And from a search hit on a resolved person.
    page.goto(f"{site.url}/search?q=RIVERA")
    page.get_by_test_id("hit-entity").first.click()
    assert page.get_by_test_id("entity-id").inner_text() == linked["ann"]


def test_link_chart_page(site: Site, as_user: Any, linked: Linked) -> None:
    watched = as_user("ana")
    page = watched.page
    page.goto(f"{site.url}/graph?entity={linked['ann']}")
    page.locator("#chart[data-ready=true]").wait_for()
    page.locator("#chart canvas").first.wait_for()
    before = chart_count(page)
    assert before >= 5  # ANN, her incident, BOB, her address and phone, DEE and EVE who share them
    # Click BOB on the canvas: his links (his arrest with CAL) join the chart.
    # Scrolled into view, and two frames later: Cytoscape caches where its container is
    # and refreshes that on the scroll event, which the browser fires with the next frame.
    page.locator("#chart").evaluate("box => box.scrollIntoView({block: 'center'})")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    x, y = page.evaluate(
        """id => { const box = document.getElementById('chart'); const p = box.cy.getElementById(id).renderedPosition();
                  const r = box.getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
        linked["bob"],
    )
    page.mouse.click(x, y)
    page.wait_for_function(f"() => Number(document.getElementById('chart').dataset.nodes) > {before}")
    assert chart_count(page) > before
    assert page.get_by_role("link", name="CAL OKAFOR").is_visible()
    check_page(watched, "link-chart")
    # Shortest path between two entities in the chart.
    page.get_by_label("Path from").select_option(linked["dee"])
    page.get_by_label("Path to").select_option(linked["cal"])
    page.get_by_role("button", name="Find the shortest path").click()
    page.get_by_test_id("path-result").filter(has_text="steps").wait_for()
    assert page.get_by_test_id("path-result").inner_text().startswith("3 steps")
    # Only shared addresses: DEE stays, the incident ties go.
    page.get_by_label("shared-address").check()
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_test_id("chart-status").filter(has_text="tied by shared-address").wait_for()
    assert edge_kinds(page) == {"shared-address"}
    assert linked["dee"] in page.evaluate("() => document.getElementById('chart').cy.nodes().map(n => n.id())")
    # Exports: the chart as PNG, the neighbourhood as GraphML from the API.
    with page.expect_download() as png:
        page.get_by_role("button", name="Download PNG").click()
    assert png.value.suggested_filename.endswith(".png")
    with page.expect_download() as graphml:
        page.get_by_role("link", name="Download GraphML").click()
    text = open(graphml.value.path(), encoding="utf-8").read()
    assert "<graphml" in text and linked["dee"] in text and HIDDEN_PHONE not in text
    assert watched.errors == [], watched.errors


def test_link_chart_start_page(site: Site, as_user: Any, linked: Linked) -> None:
    watched = as_user("ana")
    page = watched.page
    page.goto(f"{site.url}/graph")
    assert page.get_by_role("heading", name="Most connected entities you may see").is_visible()
    assert page.locator("tbody tr a").count() >= 3
    check_page(watched, "link-chart-start")
    page.locator("tbody tr a").first.click()
    page.locator("#chart[data-ready=true]").wait_for()
    assert chart_count(page) >= 2
