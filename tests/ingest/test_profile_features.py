"""Profile features the real exports need: numbered repeats, final cancels, fallbacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from fusionhub.ingest.errors import ProfileError
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.ingest.profile import Profile, shipped_profiles
from fusionhub.model import load_model
from fusionhub.store import Store
from tests import factories
from tests.ingest.real import counts, statuses

LEDGER = """
name: ledger
format: csv
record:
  id: "{case}:{code}"
  repeats: number
  cancel_when: {column: count, equals: "-1"}
  cancel_final: %s
entities:
  incident:
    schema: Incident
    properties:
      caseNumber: {column: case, required: true}
      offenseCode: code
      offenseCount: count
      narrative: note
"""
HEADER = "case,code,count,note\n"


def _source(store: Store, tmp_path: Path, final: bool = True) -> None:
    profile = tmp_path / "ledger.yaml"
    profile.write_text(LEDGER % ("true" if final else "false"))
    factories.source(store, "ledger", profile=str(profile))


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def _ids(profile: Profile, rows: list[dict[str, Any]]) -> list[str]:
    profile.begin_file()
    out = []
    for row in rows:
        draft = profile.map_row(row, "src")
        assert draft is not None
        out.append(draft.source_record_id)
    return out


def test_repeated_rows_are_numbered_and_cancels_pair_with_them(store: Store, tmp_path: Path) -> None:
    _source(store, tmp_path)
    month = _file(
        tmp_path,
        "m1.csv",
        [
            "A,41,1,victim one",
            "A,41,1,victim one",  # a second victim: same complaint and code, distinct
            "A,41,1,victim one",
            "B,60,1,theft",
            "A,41,-1,victim one unfounded",  # reverses A:41 (the first), not A:41#2
        ],
    )
    report = ingest_file(store, month, "ledger")
    assert counts(report) == (5, 4, 1, 0, 0, 1)
    assert statuses(store, "ledger") == {"active": 3, "cancelled": 1}
    assert counts(ingest_file(store, month, "ledger")) == (5, 0, 0, 5, 0, 1)


def test_a_reversal_sorted_first_stands_and_reingest_is_unchanged(store: Store, tmp_path: Path) -> None:
    _source(store, tmp_path)
    month = _file(tmp_path, "m1.csv", ["C,69,-1,reversal", "C,69,1,the row it reverses", "D,69,1,kept"])
    assert counts(ingest_file(store, month, "ledger")) == (3, 2, 0, 1, 0, 1)
    assert statuses(store, "ledger") == {"active": 1, "cancelled": 1}
    assert counts(ingest_file(store, month, "ledger")) == (3, 0, 0, 3, 0, 1)
    # An earlier month sent again after the month that reversed it: still cancelled.
    earlier = _file(tmp_path, "m0.csv", ["C,69,1,the row it reverses"])
    assert counts(ingest_file(store, earlier, "ledger")) == (1, 0, 0, 1, 0, 0)
    assert statuses(store, "ledger") == {"active": 1, "cancelled": 1}


def test_without_cancel_final_a_later_row_brings_the_record_back(store: Store, tmp_path: Path) -> None:
    _source(store, tmp_path, final=False)
    ingest_file(store, _file(tmp_path, "m1.csv", ["C,69,1,open", "C,69,-1,cancelled"]), "ledger")
    assert statuses(store, "ledger") == {"cancelled": 1}
    report = ingest_file(store, _file(tmp_path, "m2.csv", ["C,69,1,reopened"]), "ledger")
    assert report.updated == 1 and statuses(store, "ledger") == {"active": 1}


@given(st.lists(st.tuples(st.sampled_from("ABC"), st.sampled_from(["1", "-1"])), max_size=30))
def test_numbering_is_deterministic_and_unique(rows: list[tuple[str, str]]) -> None:
    profile = Profile(yaml.safe_load(LEDGER % "true"))
    data = [{"case": case, "code": "1", "count": count, "note": ""} for case, count in rows]
    first = _ids(profile, data)
    assert _ids(profile, data) == first  # the same file maps to the same ids
    pairs = list(zip(first, (count for _, count in rows), strict=True))
    assert len(set(pairs)) == len(pairs)  # distinct rows stay distinct (per sign)
    for case in "ABC":
        plus = [i for i, (c, n) in zip(first, rows, strict=True) if c == case and n == "1"]
        minus = [i for i, (c, n) in zip(first, rows, strict=True) if c == case and n == "-1"]
        # the n-th reversal of a key carries the id of the n-th row of that key
        assert minus == plus[: len(minus)] or plus == minus[: len(plus)]


def test_fallback_used_only_when_the_first_source_is_empty() -> None:
    profile = Profile(
        {
            "record": {"id": "{id}"},
            "entities": {
                "place": {
                    "schema": "Address",
                    "properties": {
                        "geo": {
                            "columns": ["x", "y"],
                            "crs": "EPSG:3435",
                            "fallback": {"columns": ["lat", "lon"]},
                        },
                        "full": "addr",
                    },
                }
            },
        }
    )
    assert "lat" in profile.columns and "lon" in profile.columns

    def geo(row: dict[str, str]) -> Any:
        draft = profile.map_row({"id": "1", "addr": "1 MAIN ST", **row}, "src")
        assert draft is not None
        return draft.entities[0].properties.get("geo")

    converted = geo({"x": "1173974.0", "y": "1876757.0", "lat": "", "lon": ""})
    assert converted[0][0] == "41.817229,-87.637328"
    assert geo({"x": "", "y": "", "lat": "41.8", "lon": "-87.6"})[0][0] == "41.800000,-87.600000"
    # X/Y 0/0 means "not geocoded": no point, and no fall back to a lat/lon computed from 0/0.
    assert geo({"x": "0.0", "y": "0.0", "lat": "36.619446395", "lon": "-91.686565684"}) is None


def test_repeats_must_be_update_or_number() -> None:
    with pytest.raises(ProfileError, match="repeats"):
        Profile({"record": {"id": "{a}", "repeats": "sometimes"}, "entities": {"i": {"schema": "Incident"}}})


def test_every_shipped_profile_maps_offences_into_the_common_vocabulary() -> None:
    categories = set(load_model().get("Incident").properties["offenseCategory"].values or [])
    assert {"homicide", "larceny-theft", "other"} <= categories
    shipped = shipped_profiles()
    assert {"berkeley_bpd", "stlouis_slmpd", "houston_hpd", "chicago_cpd", "febrl"} <= set(shipped)
    for name in shipped:
        profile = Profile.load(name)
        for rule in profile.entities:
            for prop in rule.rules:
                if prop.prop == "offenseCategory":
                    assert prop.code_table, f"{name}: offenseCategory needs a code table"
                    assert set(prop.code_table.values()) <= categories, name
                    assert "*" in prop.code_table, f"{name}: unknown codes need a default"


def test_numbered_repeats_survive_parallel_mapping(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``record.repeats: number`` counts across the whole file, even when workers map it."""
    from fusionhub.ingest.pipeline import ingest_file
    from tests import factories

    profile = tmp_path / "rep.yaml"
    profile.write_text(
        'name: rep\nformat: csv\nrecord:\n  id: "{k}"\n  repeats: number\n'
        "entities:\n  incident:\n    schema: Incident\n    properties:\n      caseNumber: k\n      narrative: n\n"
    )
    factories.source(store, "rep", profile=str(profile))
    rows = "".join(f"K{i % 7},row {i}\n" for i in range(3000))
    data = tmp_path / "rep.csv"
    data.write_text("k,n\n" + rows)
    monkeypatch.setenv("FUSIONHUB_INGEST_PARALLEL_BYTES", "0")
    monkeypatch.setenv("FUSIONHUB_INGEST_WORKERS", "2")
    report = ingest_file(store, data, "rep", batch_size=100)
    assert report.stored == 3000
    again = ingest_file(store, data, "rep", batch_size=100)
    assert again.unchanged == 3000 and again.stored == 0
