"""The profile additions for nested rows, on rows built by hand (no store needed)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from fusionhub.ingest.errors import ProfileError, RowRejected
from fusionhub.ingest.profile import Profile, entity_id

SPEC = """
name: nested
format: json
record:
  id: "{org|agency}/{case.id}"
  tlp: {column: marking, code_table: tlp, optional: true}
entities:
  incident:
    schema: Incident
    properties:
      caseNumber: {column: case.id, required: true}
      offenseCode: {column: "offenses.code"}
  person:
    schema: Person
    each: people
    item_key: "{id}"
    when: {column: kind, equals: person}
    properties:
      name: name
      notes: {template: "{$.case.id} / {id}"}
  company:
    key: person
    schema: Organization
    each: people
    item_key: "{id}"
    when: {column: kind, equals: company}
    properties:
      name: name
  role:
    schema: Involvement
    each: links
    properties:
      party: {entity: person, key: "{who}"}
      event: incident
      role: {column: as}
  elsewhere:
    schema: Involvement
    properties:
      party: {record: "{other}", entity: person}
      event: incident
      role: {literal: subject}
code_tables:
  tlp: {R: RED, G: GREEN}
"""


def row(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "agency": "PD1",
        "case": {"id": "24-1"},
        "offenses": [{"code": "13A"}, {"code": "290", "extra": "kept"}],
        "people": [
            {"id": "p1", "kind": "person", "name": "SMITH, ANN"},
            {"id": "c1", "kind": "company", "name": "ACME LLC"},
        ],
        "links": [{"who": "p1", "as": "victim"}, {"who": "c1", "as": "suspect"}, {"who": "nobody", "as": "witness"}],
    }
    base.update(extra)
    return base


def test_items_keys_alternatives_and_references() -> None:
    profile = Profile(yaml.safe_load(SPEC))
    draft = profile.map_row(row(marking="R", other="24-0"), "src")
    assert draft is not None
    assert draft.source_record_id == "PD1/24-1"  # {org|agency}: the first that has a value
    assert draft.meta["tlp"] == "RED"
    by_key = {e.key: e for e in draft.entities}
    assert by_key["person[p1]"].schema == "Person" and by_key["person[c1]"].schema == "Organization"
    assert by_key["person[p1]"].properties["notes"] == ["24-1 / p1"]  # $. reaches the whole row
    assert by_key["incident"].properties["offenseCode"] == ["13A", "290"]
    roles = [e for e in draft.entities if e.key.startswith("role[")]
    assert [r.properties["party"] for r in roles] == [[by_key["person[p1]"].id], [by_key["person[c1]"].id]]
    assert "role[2]" not in by_key  # a relationship whose party is not there says nothing
    assert by_key["elsewhere"].properties["party"] == [entity_id("src", "24-0", "person")]
    # Values the profile does not read are kept under their paths.
    assert draft.unmapped == {"offenses[1].extra": "kept"}


def test_optional_metadata_falls_back_and_required_items_reject() -> None:
    profile = Profile(yaml.safe_load(SPEC))
    draft = profile.map_row(row(), "src")
    assert draft is not None and "tlp" not in draft.meta  # the source default applies
    spec = yaml.safe_load(SPEC)
    spec["entities"]["person"]["required"] = True
    with pytest.raises(RowRejected, match="person"):
        Profile(spec).map_row(row(people=[]), "src")


def test_a_reference_across_different_items_must_name_its_key() -> None:
    spec = yaml.safe_load(SPEC)
    spec["entities"]["role"]["properties"]["party"] = "person"  # person is per item of another list
    with pytest.raises(ProfileError, match="key: TEMPLATE"):
        Profile(spec)


def test_flat_rows_behave_as_before() -> None:
    spec = yaml.safe_load(
        """
name: flat
record: {id: "{ID}"}
entities:
  incident:
    schema: Incident
    when: ID
    properties:
      caseNumber: ID
      narrative: {columns: [A.B, C], join: " "}
"""
    )
    draft = Profile(spec).map_row({"ID": "7", "A.B": "dotted", "C": "col", "X": "other", "Y": ""}, "src")
    assert draft is not None
    assert draft.entities[0].properties["narrative"] == ["dotted col"]
    assert draft.unmapped == {"X": "other"}
