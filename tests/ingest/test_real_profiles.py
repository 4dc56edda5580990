"""Every shipped profile against the real exports in ../shared/data, on real stores.

The expected counts were worked out from the files themselves, independently of the
profiles (csv module, by hand), and are explained where a row is not simply "stored":
- SLMPD: rows of one complaint and offence code repeat, one per victim (numbered
  ID#2 ...); -1 rows cancel the record they reverse (same id, n-th -1 for the n-th +1).
  A cancel row of a record of the same file updates it; 124 reversals that SLMPD sorts
  before the row they reverse leave that row unchanged (the reversal is final); 108 -1
  rows reverse records coded before 2018 and are stored as cancelled records; 7
  complaints re-sent in a later month without a reversal update their record.
- Houston: no id column; the natural key repeats on 597 rows (numbered).
No real file has a row the profiles reject: every "rejected" below is 0 by design.

Fast tests load one full file per agency on SQLite and PostgreSQL; the complete
multi-file loads are marked slow.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyproj import Transformer

from fusionhub.store import Store
from tests.conftest import DATA
from tests.ingest.real import (
    counts,
    entity,
    files,
    in_neighborhood,
    load,
    original,
    payloads,
    record,
    statuses,
    value,
)

SLMPD = DATA / "incidents/stlouis_slmpd"
# (file, read, stored, updated, unchanged, rejected, cancelled) loading all 24 in order.
SLMPD_MONTHS = [
    ("2018-january2018.csv", 3825, 3798, 27, 0, 0, 63),
    ("2018-february2018.csv", 3185, 3153, 32, 0, 0, 47),
    ("2018-march2018.csv", 3629, 3592, 37, 0, 0, 47),
    ("2018-april2018.csv", 3735, 3694, 41, 0, 0, 52),
    ("2018-may2018.csv", 4013, 3965, 48, 0, 0, 52),
    ("2018-june2018.csv", 4282, 4241, 41, 0, 0, 48),
    ("2018-july2018.csv", 4257, 4210, 47, 0, 0, 49),
    ("2018-august2018.csv", 4402, 4367, 35, 0, 0, 37),
    ("2018-september2018.csv", 4096, 4032, 64, 0, 0, 67),
    ("2018-october2018.csv", 4087, 4031, 56, 0, 0, 58),
    ("2018-november2018.csv", 3559, 3500, 59, 0, 0, 60),
    ("2018-december2018.csv", 3672, 3615, 57, 0, 0, 59),
    ("2019-january2019.csv", 3527, 3480, 47, 0, 0, 47),
    ("2019-february2019.csv", 3198, 3160, 30, 8, 0, 39),
    ("2019-march2019.csv", 3605, 3552, 43, 10, 0, 55),
    ("2019-april2019.csv", 4064, 4009, 42, 13, 0, 56),
    ("2019-may2019.csv", 4133, 4092, 32, 9, 0, 40),
    ("2019-june2019.csv", 4549, 4484, 51, 14, 0, 65),
    ("2019-july2019.csv", 4701, 4642, 46, 13, 0, 61),
    ("2019-august2019.csv", 4624, 4574, 36, 14, 0, 51),
    ("2019-september2019.csv", 4679, 4640, 28, 11, 0, 39),
    ("2019-october2019.csv", 4283, 4234, 38, 11, 0, 49),
    ("2019-november2019.csv", 3803, 3768, 25, 10, 0, 35),
    ("2019-december2019.csv", 3735, 3697, 27, 11, 0, 38),
]


def _slmpd_net(paths: list[Path]) -> tuple[int, int, int]:
    """From the files alone: SLMPD's net count (sum of Count), the -1 rows whose +1 row is
    in none of the files (reversals of older records), and the complaint/code pairs sent
    as +1 in more than one file."""
    net = 0
    plus: dict[tuple[str, str], set[str]] = {}
    minus: list[tuple[str, str]] = []
    for path in paths:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        for row in csv.DictReader(text.splitlines()):
            key = (row["Complaint"].strip(), row["Crime"].strip())
            net += int(row["Count"])
            if row["Count"] == "-1":
                minus.append(key)
            else:
                plus.setdefault(key, set()).add(path.name)
    orphans = sum(1 for key in minus if key not in plus)
    resent = sum(1 for names in plus.values() if len(names) > 1)
    return net, orphans, resent


def _point(props: dict[str, list[object]] | None) -> tuple[float, float]:
    lat, lon = str(value(props, "geo")).split(",")
    return float(lat), float(lon)


# -- Berkeley PD calls for service ----------------------------------------------------------
def test_berkeley_both_files(store: Store) -> None:
    first, second = load(store, "berkeley-cfs")
    assert counts(first) == (3788, 3788, 0, 0, 0, 0)
    assert counts(second) == (4604, 4604, 0, 0, 0, 0)
    view = record(store, "berkeley-cfs", "18022300")
    incident, place = entity(view.payload, "incident"), entity(view.payload, "place")
    # EVENTDT's midnight is ignored, EVENTTM gives the time, in Berkeley's zone.
    assert value(incident, "occurredAt") == "2018-04-18T22:17:00-07:00"
    assert view.occurred_at == "2018-04-18T22:17:00-07:00"
    assert value(incident, "offenseCategory") == "disorder"
    assert original(incident, "offenseCategory") == "DISTURBANCE"
    assert value(place, "full") == "OREGON STREET & MCGEE AVE, BERKELEY, CA"
    # The (lat, lon) at the end of the multi-line, &amp;-escaped Block_Location.
    assert value(place, "geo") == "37.856572,-122.275241"
    assert view.record_class == "call-for-service"
    assert view.payload["unmapped"]["CVLEGEND"] == "DISORDERLY CONDUCT"
    rows = payloads(store, "berkeley-cfs")
    with_geo = sum(1 for _, _, p in rows if value(entity(p, "place"), "geo"))
    assert with_geo == 3629 + 4456  # SOURCE.md: coordinates present on 3,629 and 4,456 rows
    burglary_auto = [p for _, _, p in rows if value(entity(p, "incident"), "offenseDescription") == "BURGLARY AUTO"]
    assert len(burglary_auto) == 1674
    assert {value(entity(p, "incident"), "offenseCategory") for p in burglary_auto} == {"larceny-theft"}
    again = load(store, "berkeley-cfs")
    assert [counts(r) for r in again] == [(3788, 0, 0, 3788, 0, 0), (4604, 0, 0, 4604, 0, 0)]


# -- St. Louis MPD ------------------------------------------------------------------------------
def test_slmpd_one_month(store: Store) -> None:
    (report,) = load(store, "slmpd-crime", [SLMPD / "2018-january2018.csv"])
    # 3,825 rows: 102 repeat an id (one row per victim, ID#2 ...), 27 -1 rows cancel a
    # +1 row of this month (updated), 36 -1 rows reverse records coded before 2018.
    assert counts(report) == (3825, 3798, 27, 0, 0, 63)
    assert statuses(store, "slmpd-crime") == {"active": 3735, "cancelled": 63}
    # Net crimes as SLMPD defines them (sum of Count) = active records less the
    # reversals of earlier months' records.
    net, orphans, resent = _slmpd_net([SLMPD / "2018-january2018.csv"])
    assert (net, orphans, resent) == (3699, 36, 0)
    assert statuses(store, "slmpd-crime")["active"] - orphans + resent == net

    view = record(store, "slmpd-crime", "18-001804:31111")  # Crime " 31111": leading space
    incident, place = entity(view.payload, "incident"), entity(view.payload, "place")
    assert value(incident, "offenseCode") == "31111"
    assert value(incident, "offenseCategory") == "robbery"
    assert value(incident, "occurredAt") == "2018-01-01T00:01:00-06:00"
    assert value(place, "full") == "6431 IDAHO AVE, ST. LOUIS, MO"
    assert value(place, "neighborhood") == "Carondelet" and original(place, "neighborhood") == "1"
    lat, lon = _point(place)
    assert original(place, "geo") == "890047.4, 992586.3"
    assert in_neighborhood(lat, lon, "Carondelet")
    assert lat == pytest.approx(38.5593, abs=1e-3) and lon == pytest.approx(-90.2558, abs=1e-3)
    dispatch = entity(view.payload, "dispatch")
    assert value(dispatch, "full") == "6431 IDAHO, ST. LOUIS, MO"
    assert value(dispatch, "locationType") == "CAD dispatch address"

    # A +1 row and the -1 row that reverses it, in the same month: one cancelled record.
    cancelled = record(store, "slmpd-crime", "18-000191:71013")
    assert cancelled.status == "cancelled" and cancelled.version == 2
    assert value(entity(cancelled.payload, "incident"), "offenseCount") == "-1"
    assert value(entity(cancelled.versions[0]["payload"], "incident"), "offenseCount") == "1"
    # A reversal of a 2017 record not in these files: stored, cancelled.
    assert record(store, "slmpd-crime", "17-009497:71013").status == "cancelled"
    # Two victims of one aggravated assault: two records.
    assert record(store, "slmpd-crime", "18-000380:41021#2").status == "active"

    # The state-plane conversion puts points in the neighbourhood the row names: 94 % of
    # them strictly inside (the rest lie on boundary streets, a few metres out).
    inside = total = 0
    for _, _, payload in payloads(store, "slmpd-crime"):
        place = entity(payload, "place")
        if value(place, "geo") and value(place, "neighborhood"):
            total += 1
            inside += in_neighborhood(*_point(place), str(value(place, "neighborhood")))
    assert total > 3600 and inside / total > 0.9

    again = load(store, "slmpd-crime", [SLMPD / "2018-january2018.csv"])
    assert counts(again[0]) == (3825, 0, 0, 3825, 0, 63)


def test_slmpd_encoding_and_placeholder_quirks(sqlite_store: Store) -> None:
    may, june, december = load(
        sqlite_store,
        "slmpd-crime",
        [SLMPD / "2018-may2018.csv", SLMPD / "2018-june2018.csv", SLMPD / "2019-december2019.csv"],
    )
    # 2018-may2018.csv starts with a UTF-8 BOM: the header still reads "Complaint".
    assert may.read == 4013 and may.rejected == 0
    # June's first row occurred "01/01/1900 00:00": a placeholder, dropped, not stored.
    assert june.rejected == 0
    view = record(sqlite_store, "slmpd-crime", "18-026541:52212")
    assert value(entity(view.payload, "incident"), "occurredAt") is None
    assert view.payload["dropped"][0]["property"] == "occurredAt"
    assert "placeholder" in view.payload["dropped"][0]["reason"]
    # The one Windows-1252 byte of December 2019 (0xC8) is read as È, nothing replaced.
    assert december.read == 3735 and december.rejected == 0
    assert any("Windows-1252" in w for w in december.warnings)
    names = [value(entity(p, "place"), "name") for _, _, p in payloads(sqlite_store, "slmpd-crime") if "LUMI" in str(p)]
    assert "HOTEL LUMIÈRE" in names


@pytest.mark.slow
def test_slmpd_all_months_sqlite(sqlite_store: Store) -> None:
    reports = load(sqlite_store, "slmpd-crime")
    assert [Path(r.file).name for r in reports] == [m[0] for m in SLMPD_MONTHS]  # coded-month order
    assert [(Path(r.file).name, *counts(r)) for r in reports] == SLMPD_MONTHS
    assert sum(r.read for r in reports) == 95643  # SOURCE.md
    # 94,530 records: 93,309 never reversed, 7 re-sent (one record each), 982 reversed
    # after their row, 124 reversed by a row sorted first, 108 reversals of older records.
    assert statuses(sqlite_store, "slmpd-crime") == {"active": 93316, "cancelled": 1214}
    # Net crimes, SLMPD's sum of Count (94,429 - 1,214 = 93,215) = active records, less
    # the 108 reversals of pre-2018 records, plus the 7 complaints SLMPD counted twice.
    net, orphans, resent = _slmpd_net(files("slmpd-crime"))
    assert (net, orphans, resent) == (93215, 108, 7)
    assert statuses(sqlite_store, "slmpd-crime")["active"] - orphans + resent == net
    # Reversed a month later (April +1, May -1).
    april = record(sqlite_store, "slmpd-crime", "18-017197:83000")
    assert april.status == "cancelled" and april.version == 2
    assert value(entity(april.payload, "incident"), "offenseCategory") == "arson"
    # Reversal sorted before the row it reverses (February 2019): it stands.
    sorted_first = record(sqlite_store, "slmpd-crime", "19-004832:69702")
    assert sorted_first.status == "cancelled" and sorted_first.version == 1
    # Re-sent in March without a reversal: the same record, a new version (street changed).
    resent = record(sqlite_store, "slmpd-crime", "18-002903:41021")
    assert resent.status == "active" and resent.version == 2
    dropped = [p["dropped"] for _, _, p in payloads(sqlite_store, "slmpd-crime") if "dropped" in p]
    assert len(dropped) == 3 and all(d[0]["property"] == "occurredAt" for d in dropped)  # 3 x 01/01/1900

    again = load(sqlite_store, "slmpd-crime")
    # Everything unchanged but the 7 re-sent complaints, which go back to their first
    # month's content and forward again (14 versions): a month that is re-ingested after a
    # later one replays its content, like any source without a version stamp.
    assert sum(r.unchanged for r in again) == 95643 - 14
    assert sum(r.updated for r in again) == 14 and sum(r.stored for r in again) == 0
    assert statuses(sqlite_store, "slmpd-crime") == {"active": 93316, "cancelled": 1214}


# -- Houston PD --------------------------------------------------------------------------------
HOUSTON = DATA / "incidents/houston_hpd/houston_crime_2010_jan_aug.csv"


def _houston_head(tmp_path: Path, rows: int) -> Path:
    lines = HOUSTON.read_text(encoding="utf-8").splitlines(keepends=True)
    head = tmp_path / "houston_head.csv"
    head.write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return head


def _check_houston_times(store: Store, path: Path) -> list[str]:
    """Compare occurredAt (local date + hour) with ggmap's UTC `time`: the mismatching ids."""
    with path.open(encoding="utf-8", newline="") as handle:
        utc = {}
        seen: dict[str, int] = {}
        for row in csv.DictReader(handle):
            key = f"{row['date']}|{row['hour']}|{row['beat']}|{row['premise']}|{row['offense']}|"
            key += f"{row['block']} {row['street']} {row['type']} {row['suffix']}"
            seen[key] = seen.get(key, 0) + 1
            rid = key if seen[key] == 1 else f"{key}#{seen[key]}"
            utc[rid] = datetime.strptime(row["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    mismatched = []
    rows = payloads(store, "hpd-crime")
    assert {rid for rid, _, _ in rows} == set(utc)  # the ids are the natural keys, numbered
    for rid, _, payload in rows:
        local = datetime.fromisoformat(str(value(entity(payload, "incident"), "occurredAt")))
        if local != utc[rid]:
            mismatched.append(rid)
    return mismatched


def test_houston_first_rows(store: Store, tmp_path: Path) -> None:
    head = _houston_head(tmp_path, 3000)
    (report,) = load(store, "hpd-crime", [head])
    assert counts(report) == (3000, 3000, 0, 0, 0, 0)
    view = record(store, "hpd-crime", "1/1/2010|0|15E30|18A|murder|9600-9699 marlive ln -")
    incident, place = entity(view.payload, "incident"), entity(view.payload, "place")
    assert value(incident, "offenseCategory") == "homicide"
    assert value(incident, "occurredAt") == "2010-01-01T00:00:00-06:00"  # = time 06:00 UTC
    assert value(incident, "premise") == "18A: apartment parking lot"
    assert value(place, "full") == "9600-9699 MARLIVE LN, HOUSTON, TX"  # suffix "-": none
    assert value(place, "geo") == "29.677902,-95.437388"
    # Two rows, same hour, place and offence, 1 and 2 offences: two records.
    key = "1/1/2010|3|6B50|18A|aggravated assault|11400-11499 green plaza dr -"
    counts_by_row = [
        value(entity(record(store, "hpd-crime", k).payload, "incident"), "offenseCount") for k in (key, key + "#2")
    ]
    assert sorted(counts_by_row) == ["1", "2"]
    assert _check_houston_times(store, head) == []
    again = load(store, "hpd-crime", [head])
    assert counts(again[0]) == (3000, 0, 0, 3000, 0, 0)


@pytest.mark.slow
def test_houston_whole_file(store: Store) -> None:
    (report,) = load(store, "hpd-crime")
    assert counts(report) == (86314, 86314, 0, 0, 0, 0)
    rows = payloads(store, "hpd-crime")
    assert sum(1 for rid, _, _ in rows if "#" in rid) == 597
    assert sum(1 for _, _, p in rows if not value(entity(p, "place"), "geo")) == 5  # SOURCE.md
    categories: dict[str, int] = {}
    for _, _, p in rows:
        category = str(value(entity(p, "incident"), "offenseCategory"))
        categories[category] = categories.get(category, 0) + 1
    assert categories == {
        "larceny-theft": 46556,
        "burglary": 17802,
        "motor-vehicle-theft": 7946,
        "aggravated-assault": 7177,
        "robbery": 6298,
        "rape": 378,
        "homicide": 157,
    }
    # 2 a.m. on 14 March 2010 did not exist in Houston (DST): ggmap says 07:00 UTC, the
    # zone rules read the hour as CST (08:00 UTC). Every other row agrees with `time`.
    mismatched = _check_houston_times(store, HOUSTON)
    assert len(mismatched) == 9 and all(m.startswith("3/14/2010|2|") for m in mismatched)
    again = load(store, "hpd-crime")
    assert counts(again[0]) == (86314, 0, 0, 86314, 0, 0)


# -- Chicago PD --------------------------------------------------------------------------------
def test_chicago_sample(store: Store) -> None:
    (report,) = load(store, "cpd-crime")
    assert counts(report) == (10000, 10000, 0, 0, 0, 0)  # ID is unique; Case Number is not
    view = record(store, "cpd-crime", "4786321")
    incident, place = entity(view.payload, "incident"), entity(view.payload, "place")
    assert value(incident, "offenseCode") == "0840"  # IUCR keeps its leading zero
    assert value(incident, "offenseCategory") == "larceny-theft" and original(incident, "offenseCategory") == "06"
    assert value(incident, "offenseDescription") == "THEFT: FINANCIAL ID THEFT: OVER $300"
    assert value(incident, "district") == "4"  # "4.0"
    assert value(incident, "arrestMade") == "false" and value(incident, "domestic") == "false"
    assert value(incident, "occurredAt") == "2004-01-01T00:01:00-06:00"
    assert value(place, "notes") == "ward 7" and value(place, "neighborhood") == "community area 46"
    assert value(place, "geo") is None  # no X/Y, no lat/lon
    assert view.payload["unmapped"]["Updated On"] == "08/17/2015 03:03:40 PM"

    # X/Y (Illinois East, ftUS) converted; the portal's own lat/lon agree within a metre.
    rows = payloads(store, "cpd-crime")
    with open(DATA / "incidents/chicago_cpd/chicago_crimes_2001_2004_sample10k.csv", newline="") as handle:
        portal = {r["ID"]: r for r in csv.DictReader(handle)}
    compared = 0
    for rid, _, payload in rows:
        point = value(entity(payload, "place"), "geo")
        if point:
            lat, lon = map(float, str(point).split(","))
            assert lat == pytest.approx(float(portal[rid]["Latitude"]), abs=1e-5)
            assert lon == pytest.approx(float(portal[rid]["Longitude"]), abs=1e-5)
            compared += 1
    assert compared == 10000 - 6321 - 3  # 6,321 without coordinates, 3 at X/Y 0/0
    # X/Y 0/0 is "not geocoded": no point, not the portal's 36.62,-91.69 in Missouri.
    for rid in ("808", "1051", "1206"):
        assert value(entity(record(store, "cpd-crime", rid).payload, "place"), "geo") is None
    homicides = sum(1 for _, _, p in rows if value(entity(p, "incident"), "offenseCategory") == "homicide")
    assert homicides == 684  # FBI code 01A
    again = load(store, "cpd-crime")
    assert counts(again[0]) == (10000, 0, 0, 10000, 0, 0)


# -- FEBRL person files ------------------------------------------------------------------------
def test_febrl_three_files(store: Store) -> None:
    reports = {name: load(store, f"febrl-{name}")[0] for name in ("dataset3", "dataset4a", "dataset4b")}
    assert {name: counts(r) for name, r in reports.items()} == {
        "dataset3": (5000, 5000, 0, 0, 0, 0),
        "dataset4a": (5000, 5000, 0, 0, 0, 0),
        "dataset4b": (5000, 5000, 0, 0, 0, 0),
    }
    # Corrupted dates of birth (19551192) are dropped values, never rejected rows.
    dropped = {name: sum(1 for _, _, p in payloads(store, f"febrl-{name}") if "dropped" in p) for name in reports}
    assert dropped == {"dataset3": 35, "dataset4a": 0, "dataset4b": 64}
    # The ground-truth rec_id is the record id only: no property value carries it.
    for name in reports:
        for rid, _, payload in payloads(store, f"febrl-{name}"):
            assert rid.startswith("rec-")
            assert "rec-" not in str(payload["entities"])

    view = record(store, "febrl-dataset3", "rec-1496-org")
    person, home = entity(view.payload, "person"), entity(view.payload, "home")
    assert (value(person, "firstName"), value(person, "lastName")) == ("MITCHELL", "GREEN")
    assert value(person, "birthDate") == "1956-04-09"
    assert value(home, "full") == "7 WALLABY PLACE, DELMAR, CLEVELAND, SA 2119"
    assert (value(home, "postalCode"), value(home, "state"), value(home, "country")) == ("2119", "SA", "AU")
    identifier = entity(view.payload, "social_security_id")
    assert (value(identifier, "number"), value(identifier, "scheme")) == ("1804974", "other")
    assert entity(view.payload, "holds") and entity(view.payload, "residence")
    assert view.record_class == "person-record"
    # Blank surname: no lastName, the rest of the row stands.
    blank = entity(record(store, "febrl-dataset4b", "rec-561-dup-0").payload, "person")
    assert value(blank, "lastName") is None and value(blank, "name") == "ELTON"
    # Postcodes and ids stay text: leading zeros kept.
    postcodes = [value(entity(p, "home"), "postalCode") for _, _, p in payloads(store, "febrl-dataset4a")]
    assert sum(1 for pc in postcodes if str(pc).startswith("0")) == 37
    again = load(store, "febrl-dataset3")
    assert counts(again[0]) == (5000, 0, 0, 5000, 0, 0)


def test_slmpd_state_plane_crs_is_missouri_east_feet() -> None:
    # The profile's CRS against an independent definition of the zone (NAD83 Missouri
    # East: TM, lat0 35 50', lon0 -90 30', k 1 - 1/15000, x0 250 km, US survey feet).
    proj = (
        "+proj=tmerc +lat_0=35.83333333333333 +lon_0=-90.5 +k=0.9999333333333333 "
        "+x_0=250000 +y_0=0 +ellps=GRS80 +towgs84=0,0,0 +units=us-ft +no_defs"
    )
    reference = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    profile = Transformer.from_crs("ESRI:102696", "EPSG:4326", always_xy=True)
    for x, y in ((890047.4, 992586.3), (903573.1, 1019563.0), (884087.5, 1030426.0)):
        assert profile.transform(x, y) == pytest.approx(reference.transform(x, y), abs=1e-7)
    assert files("slmpd-crime")[0].name == "2018-january2018.csv"
