"""The demo generator: same seed, same bytes; variation rates as configured; a ground truth that holds."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from fusionhub.demo import GROUND_TRUTH, KINDS, LAYOUTS, MANIFEST, PERSONS, DemoDataMissing, VariationRates, generate
from fusionhub.demo.population import CITY, vin_check_digit
from fusionhub.ingest.profile import Profile


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, size=20000, seed=11)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", size=3000, seed=5)
    b = generate(tmp_path / "b", size=3000, seed=5)
    c = generate(tmp_path / "c", size=3000, seed=6)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {GROUND_TRUTH, PERSONS, MANIFEST} <= set(files)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a == b
    assert a["sources"]["stl_rms"]["sha256"] != c["sources"]["stl_rms"]["sha256"]


def test_size_is_the_number_of_source_records(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, manifest = demo
    assert sum(s["rows"] for s in manifest["sources"].values()) == 20000
    for layout in LAYOUTS:
        assert len(read(out / layout.file_name)) == manifest["sources"][layout.key]["rows"]


def test_variation_rates_as_configured(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, manifest = demo
    rates = VariationRates().to_json()
    truth = read(out / GROUND_TRUTH)
    seen = Counter(kind for row in truth for kind in row["variations"].split(";") if kind)
    for kind in KINDS:
        applied, eligible = manifest["variations"][kind]["applied"], manifest["variations"][kind]["eligible"]
        assert seen[kind] == applied, kind  # the ground truth records every variation made
        assert eligible > 300, kind
        expected = rates[kind] * eligible
        # Binomial: within five standard deviations of the configured rate.
        assert abs(applied - expected) <= 5 * (expected * (1 - rates[kind])) ** 0.5 + 1, (kind, applied, expected)


def test_rates_are_configurable(tmp_path: Path) -> None:
    manifest = generate(tmp_path, size=2000, seed=3, rates=VariationRates(typo=0.0, nickname=1.0))
    assert manifest["variations"]["typo"]["applied"] == 0
    nick = manifest["variations"]["nickname"]
    assert nick["applied"] == nick["eligible"] > 0


def test_ground_truth_matches_the_exports(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = demo
    persons = {p["person_id"]: p for p in read(out / PERSONS)}
    truth = {(t["source"], t["source_record_id"]): t for t in read(out / GROUND_TRUTH)}
    assert len(truth) == 20000  # one row per source record, no duplicate keys
    rms = read(out / "demo_stl_rms.csv")
    per_person: Counter[str] = Counter()
    for row in rms:
        fact = truth[("demo-stl-rms", f"{row['INCIDENT_NO']}-{row['SUBJ_SEQ']}")]
        kinds = set(filter(None, fact["variations"].split(";")))
        person = persons[fact["person_id"]]
        per_person[person["person_id"]] += 1
        true_dob = date.fromisoformat(person["dob"])
        written = date(int(row["SUBJ_DOB"][6:]), int(row["SUBJ_DOB"][:2]), int(row["SUBJ_DOB"][3:5]))
        assert written == (date(true_dob.year, true_dob.day, true_dob.month) if "dob_swap" in kinds else true_dob)
        if not kinds & {"typo", "nickname", "swap", "middle_missing", "middle_initial"}:
            middle = f" {person['middle']}" if person["middle"] else ""
            assert row["SUBJ_NAME"] == f"{person['last']}, {person['first']}{middle}"
        if "address_changed" not in kinds:
            assert row["SUBJ_ADDRESS"] == person["address"]
        south, west, north, east = CITY["stl"].bbox
        assert south <= float(row["INC_LAT"]) <= north and west <= float(row["INC_LON"]) <= east
        if row["VEH_VIN"]:
            assert fact["vehicle_id"] and vin_check_digit(row["VEH_VIN"]) == row["VEH_VIN"][8]
    assert max(per_person.values()) > 3  # the same people recur
    cad = read(out / "demo_hou_cad.csv")
    for row in cad:
        fact = truth[("demo-hou-cad", row["call_id"])]
        if "dob_swap" not in fact["variations"]:
            assert row["dob"] == persons[fact["person_id"]]["dob"]
    # People recur across agencies, and household members share an address.
    sources_of: dict[str, set[str]] = {}
    for fact in truth.values():
        if fact["person_id"]:
            sources_of.setdefault(fact["person_id"], set()).add(fact["source"])
    assert sum(1 for s in sources_of.values() if len(s) >= 3) > 50
    households = Counter(p["household_id"] for p in persons.values())
    assert max(households.values()) > 1


def test_every_demo_row_maps_cleanly_with_its_profile(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = demo
    for layout in LAYOUTS:
        profile = Profile.load(layout.profile)
        for row in read(out / layout.file_name)[:2000]:
            draft = profile.map_row(row, layout.source)
            assert draft is not None
            assert not draft.dropped, (layout.key, draft.dropped)
            assert not draft.unmapped, (layout.key, draft.unmapped)


def test_data_folder_is_configurable(tmp_path: Path) -> None:
    with pytest.raises(DemoDataMissing):
        generate(tmp_path / "out", size=10, data_dir=tmp_path / "nowhere")


def test_manifest_is_json(demo: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, manifest = demo
    assert json.loads((out / MANIFEST).read_text()) == manifest
