"""The fused profile: every value with its sources, conflicts, and only what the viewer may see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.policy.reader import NotFound
from fusionhub.resolve import resolver
from fusionhub.resolve.profile import entity_profile
from fusionhub.store import Store
from tests.factories import user
from tests.resolve.conftest import canonical, ingest_rows, seed_model


def test_profile_shows_only_values_from_records_the_viewer_may_see(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    subject = dict(persons[0], rec_id="A1", phone="3145550101")
    # The same person in an agency-only source, with a phone and an address no one else has.
    hidden = dict(subject, rec_id="B1", phone="6185559999", street="77 SECRET LN", city="HIDDENVILLE")
    ingest_rows(store, tmp_path, "rms-a", [subject, *persons[5:60]])
    ingest_rows(store, tmp_path, "rms-b", [hidden], agency="PD2", sharing_terms={"agency_only": True})
    resolver.run(store, full=True)
    entity = canonical(store, "A1")
    assert canonical(store, "B1") == entity  # resolution joins across the boundary ...
    outsider = user(store, "ana", "PD1")
    owner = user(store, "bo", "PD2")
    seen = entity_profile(store, outsider, entity, "case 24-001")
    text = json.dumps(seen)
    # ... but the PD1 viewer sees nothing of the agency-only record: no value, no source, no link.
    assert "6185559999" not in text and "SECRET" not in text and "rms-b" not in text
    assert [r["source"] for r in seen["records"]] == ["rms-a"]
    assert seen["attributes"]["phone"][0]["value"].endswith("3145550101")
    full = entity_profile(store, owner, entity, "case 24-001")
    assert {r["source"] for r in full["records"]} == {"rms-a", "rms-b"}
    # Two phones from two sources: a conflict, side by side, each with its source and grading.
    assert len(full["conflicts"]["phone"]) == 2
    phone_sources = {v["value"][-10:]: [s["source"] for s in v["sources"]] for v in full["attributes"]["phone"]}
    assert phone_sources == {"3145550101": ["rms-a"], "6185559999": ["rms-b"]}
    assert full["attributes"]["firstName"][0]["sources"][0]["reliability"]
    assert any(link["kind"] in ("model", "identifier") for link in full["links"])
    assert full["timeline"] and full["related"]


def test_an_entity_seen_only_through_hidden_records_does_not_exist_for_the_viewer(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    ingest_rows(store, tmp_path, "rms-a", persons[5:30])
    ingest_rows(
        store, tmp_path, "rms-b", [dict(persons[0], rec_id="B9")], agency="PD2", sharing_terms={"agency_only": True}
    )
    resolver.run(store, full=True)
    outsider = user(store, "ana", "PD1")
    with pytest.raises(NotFound):
        entity_profile(store, outsider, canonical(store, "B9"), "case 24-001")
    with pytest.raises(NotFound):
        entity_profile(store, outsider, "Enonexistent", "case 24-001")


def test_entity_show_cli(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    ingest_rows(store, tmp_path, "rms-a", persons[:30])
    resolver.run(store, full=True)
    user(store, "ana", "PD1")
    entity = canonical(store, persons[0]["rec_id"])
    runner = CliRunner()
    url = store.url
    result = runner.invoke(
        app, ["--store", url, "--as", "ana", "entity", "show", entity, "--json", "--purpose", "case 24-001"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["id"] == entity
    result = runner.invoke(app, ["--store", url, "--as", "ana", "entity", "show", entity, "--purpose", "case 24-001"])
    assert result.exit_code == 0 and persons[0]["surname"] in result.output
    result = runner.invoke(app, ["--store", url, "--as", "ana", "entity", "show", "Enope", "--purpose", "case 24-001"])
    assert result.exit_code == 5
