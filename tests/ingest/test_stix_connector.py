"""The STIX 2.1 connector and profile, against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fusionhub.ingest.connectors.stix import TLP2_EXTENSION
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.ingest.profile import entity_id
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.ingest.helpers import cli_ingest, count, quarantine, records, values, write

BUNDLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "stix"
TLP2_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    factories.source(store, "cti", kind="federal-feed", profile="stix")
    return store, tmp_path


def bundle(*objects: dict[str, Any]) -> str:
    return json.dumps(
        {"type": "bundle", "id": "bundle--0b3c6f32-6d8c-4a38-a1a8-8b1d5e2a9f11", "objects": list(objects)}
    )


def indicator(n: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-00000000000{n}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": f"Bad IP {n}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    body.update(extra)
    return body


def test_every_sample_bundle_lands(setup: tuple[Store, Path]) -> None:
    store, _ = setup
    total = 0
    for path in sorted(BUNDLES.glob("*.json")):
        objects = json.loads(path.read_text())["objects"]
        expected = sum(1 for o in objects if o["type"] != "marking-definition")
        report = ingest_file(store, path, "cti")
        assert (report.read, report.stored, report.rejected, report.exit_code) == (expected, expected, 0, 0), path.name
        total += expected
    assert count(store, t.record) == total
    stored = records(store)
    assert {r.record_class for r in stored.values()} == {"alert"}
    again = ingest_file(store, BUNDLES / "apt1.json", "cti")
    assert (again.stored, again.updated, again.unchanged) == (0, 0, 76)


def test_objects_map_to_the_model(setup: tuple[Store, Path]) -> None:
    store, _ = setup
    ingest_file(store, BUNDLES / "apt1.json", "cti")
    stored = records(store)
    kinds = {}
    for rid, row in stored.items():
        main = next(e for e in row.payload["entities"] if e["key"] == "object")
        kinds[rid.split("--")[0]] = kinds.get(rid.split("--")[0], set()) | {main["schema"]}
    assert kinds["threat-actor"] == {"Organization"} and kinds["intrusion-set"] == {"Organization"}
    assert kinds["identity"] == {"Person"}  # identity_class: individual
    assert kinds["indicator"] == {"Indicator"} and kinds["attack-pattern"] == {"AttackPattern"}
    assert kinds["relationship"] == {"ThreatRelationship"}
    apt1 = next(r for r in stored.values() if r.payload["entities"][0]["properties"].get("name") == ["APT1"])
    org = apt1.payload["entities"][0]
    assert "COMMENT CREW" in [a.upper() for a in values(org, "alias")]
    # A relationship record points at the objects of the other records, by their entity ids.
    rel_id, rel = next((k, r) for k, r in stored.items() if k.startswith("relationship--"))
    edge = rel.payload["entities"][0]
    source = json.loads(json.dumps(edge["properties"]["source"]))[0]
    targets = {entity_id("cti", rid, "object"): rid for rid in stored if not rid.startswith("relationship--")}
    assert source in targets and edge["properties"]["target"][0] in targets, rel_id
    assert stored[targets[source]].payload["entities"][0]["id"] == source
    indicator_row = next(r for k, r in stored.items() if k.startswith("indicator--"))
    assert values(indicator_row.payload["entities"][0], "pattern")[0].startswith("[")
    assert "created" in indicator_row.payload["unmapped"]  # STIX properties not mapped are kept


def test_tlp_markings(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    ingest_file(store, BUNDLES / "using-marking-definitions.json", "cti")
    ingest_file(store, BUNDLES / "using-granular-markings.json", "cti")
    stored = records(store)
    assert stored["indicator--33fe3b22-0201-47cf-85d0-97c02164528d"].tlp == "AMBER"  # TLP 1.0, carried
    assert stored["indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1"].tlp == "RED"  # granular RED on description
    assert stored["identity--611d9d41-dba5-4e13-9b29-e22488058ffc"].tlp == "AMBER"  # unmarked: source default
    payload = stored["indicator--33fe3b22-0201-47cf-85d0-97c02164528d"].payload
    assert payload["unmapped"]["_statements[0]"] == "Copyright (c) Stark Industries 2017."
    tlp2 = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_AMBER_STRICT,
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:AMBER+STRICT",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}},
    }
    forged = {**tlp2, "id": "marking-definition--11111111-2222-4333-8444-555555555555", "name": "TLP:CLEAR"}
    forged["extensions"] = {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "clear"}}
    f = write(
        tmp / "tlp2.json",
        bundle(
            indicator(1, object_marking_refs=[TLP2_AMBER_STRICT]),
            indicator(2, object_marking_refs=[forged["id"]]),
            tlp2,  # after the object that uses it: markings are read first
            forged,
        ),
    )
    report = ingest_file(store, f, "cti")
    assert report.stored == 2 and any("wrong id" in w for w in report.warnings)
    stored = records(store)
    assert stored[indicator(1)["id"]].tlp == "AMBER+STRICT"
    assert stored[indicator(2)["id"]].tlp == "AMBER"  # a forged TLP 2.0 id is ignored: the source default


def test_invalid_objects_are_quarantined_with_their_index(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    no_pattern = indicator(2)
    del no_pattern["pattern"]
    bad_id = indicator(3, id="indicator--not-a-uuid")
    f = write(tmp / "bad.json", bundle(indicator(1), no_pattern, bad_id, "a string", indicator(5)))
    report = ingest_file(store, f, "cti")
    assert (report.stored, report.rejected, report.exit_code) == (2, 3, 3)
    reasons = {q.row_number: q.reason for q in quarantine(store)}
    assert "object 1 of the bundle" in reasons[2] and "pattern" in reasons[2]
    assert "object 2 of the bundle" in reasons[3] and "not valid STIX" in reasons[3]
    assert "not an object" in reasons[4]


def test_hostile_bundles(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    text = bundle(indicator(1), indicator(2, name="=cmd|' /C calc'!A0"), indicator(3))
    assert ingest_file(store, write(tmp / "bom.json", codecs.BOM_UTF8 + text.encode()), "cti").stored == 3
    stored = records(store)
    assert values(stored[indicator(2)["id"]].payload["entities"][0], "name") == ["=cmd|' /C calc'!A0"]
    cut = text[: text.index(indicator(3)["id"])]
    report = ingest_file(store, write(tmp / "cut.json", cut), "cti")
    assert report.rejected == 1 and report.unchanged == 2
    assert "truncated" in report.quarantine_sample[0]["reason"]
    for name, content in {
        "binary.json": os.urandom(2048).replace(b"\n", b"\x00") + b"\x00" * 32,
        "notbundle.json": json.dumps(indicator(9)).encode(),
        "empty.json": b"",
    }.items():
        with pytest.raises(UnreadableFile):
            ingest_file(store, write(tmp / name, content), "cti")
    assert {r.row_number for r in quarantine(store)} == {3}


def test_cli_exit_codes(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    ok = cli_ingest(store, BUNDLES / "threat-actor-leveraging-attack-patterns-and-malware.json", "cti")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["stored"] == 7
    bad = indicator(2)
    del bad["pattern"]
    partial = cli_ingest(store, write(tmp / "p.json", bundle(indicator(1), bad)), "cti")
    assert partial.returncode == 3, partial.stderr
    unreadable = cli_ingest(store, write(tmp / "u.json", b"\x89PNG\r\n\x1a\n" + os.urandom(512)), "cti")
    assert unreadable.returncode == 4, unreadable.stderr
