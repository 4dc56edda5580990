"""The JSON / NDJSON connector and per-item entities, against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.ingest.helpers import cli_ingest, count, entities, quarantine, records, values, write

PROFILE = """
name: cases_json
format: json
options: {records: "%s"}
record:
  id: "{case.id}"
  occurred: incident.occurredAt
entities:
  incident:
    schema: Incident
    properties:
      caseNumber: {column: case.id, required: true}
      occurredAt: case.when
      narrative: case.note
      offenseCode: codes
      offenseDescription: {column: codes, join: "/"}
  person:
    schema: Person
    each: people
    item_key: "{pid}"
    properties:
      name: {column: name.full, parse: last_first}
      alias: aliases
      birthDate: dob
  role:
    schema: Involvement
    each: people
    item_key: "{pid}"
    properties:
      party: person
      event: incident
      role: {column: role, default: other}
"""


def case(n: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case": {"id": f"C{n}", "when": "2024-03-01T10:00:00", "note": f"note {n}"},
        "codes": ["13A", "290"],
        "people": [
            {"pid": f"P{n}a", "name": {"full": "SMITH, JOHN"}, "aliases": ["JJ", "Johnny"], "role": "suspect"},
            {"pid": f"P{n}b", "name": {"full": "DOE, JANE"}, "dob": "1990-12-31", "role": "victim"},
        ],
    }
    body.update(extra)
    return body


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    for name, records_path in (("json1", ""), ("json2", "data.items")):
        profile = tmp_path / f"{name}.yaml"
        text = PROFILE % records_path
        if not records_path:
            text = text.replace('options: {records: ""}\n', "")
        profile.write_text(text)
        factories.source(store, name, profile=str(profile))
    return store, tmp_path


def test_array_lands_with_nested_paths_lists_and_items(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    f = write(tmp / "cases.json", json.dumps([case(1, extra={"deep": {"x": 1}}), case(2)], indent=2))
    report = ingest_file(store, f, "json1")
    assert (report.read, report.stored, report.rejected, report.exit_code) == (2, 2, 0, 0)
    stored = records(store)
    payload = stored["C1"].payload
    incident = entities(payload, "Incident")[0]
    assert values(incident, "offenseCode") == ["13A", "290"]  # a list gives one value per item
    assert values(incident, "offenseDescription") == ["13A/290"]  # or one joined value, as the profile asks
    people = {e["key"]: e for e in entities(payload, "Person")}
    assert set(people) == {"person[P1a]", "person[P1b]"}
    assert values(people["person[P1a]"], "alias") == ["JJ", "JOHNNY"]
    assert values(people["person[P1a]"], "lastName") == ["SMITH"]
    roles = {e["key"]: e for e in entities(payload, "Involvement")}
    assert roles["role[P1a]"]["properties"]["party"] == [people["person[P1a]"]["id"]]
    assert values(roles["role[P1b]"], "role") == ["VICTIM"]
    assert roles["role[P1b]"]["properties"]["event"] == [incident["id"]]
    # Unknown fields are kept, not dropped: under their paths in `unmapped`.
    assert payload["unmapped"]["extra.deep.x"] == 1
    assert stored["C1"].occurred_at == "2024-03-01T10:00:00"
    again = ingest_file(store, f, "json1")
    assert (again.stored, again.updated, again.unchanged) == (0, 0, 2)


def test_ndjson_and_records_path_give_the_same_records(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    array = write(tmp / "a.json", json.dumps([case(1), case(2)]))
    ingest_file(store, array, "json1")
    nd = write(tmp / "a.ndjson", "\n".join(json.dumps(case(n)) for n in (1, 2)) + "\n")
    report = ingest_file(store, nd, "json1")
    assert report.details["layout"] == "ndjson" and (report.unchanged, report.stored) == (2, 0)
    # Detected without the extension too: one object per line.
    nd2 = write(tmp / "b.txt", "\n".join(json.dumps(case(n)) for n in (1, 2)))
    assert ingest_file(store, nd2, "json1").unchanged == 2
    wrapped = write(
        tmp / "w.json",
        json.dumps({"meta": {"count": 2, "exported": "2024-03-02"}, "data": {"note": "x", "items": [case(3)]}}),
    )
    report = ingest_file(store, wrapped, "json2")
    assert report.stored == 1 and report.details["envelope_keys"] == ["meta", "note"]
    assert any("outside the records array" in w for w in report.warnings)


def test_bad_rows_quarantined_with_line_numbers(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    lines = [json.dumps(case(1)), '{"case": {"id": "C2", broken', "[1, 2]", json.dumps(case(4)), ""]
    f = write(tmp / "bad.jsonl", "\n".join(lines))
    report = ingest_file(store, f, "json1")
    assert (report.stored, report.rejected, report.exit_code) == (2, 2, 3)
    reasons = {q.row_number: q.reason for q in quarantine(store)}
    assert reasons[2].startswith("line 2: invalid JSON")
    assert reasons[3] == "line 3: a JSON list, not an object"


def test_broken_array_keeps_the_good_objects(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    good = ",\n".join(json.dumps(case(n)) for n in (1, 2))
    text = "[\n" + good + ',\n{"case": {"id": "C3", "when": tru}},\n' + json.dumps(case(4)) + ',\n{"case": {"id": "C5"'
    report = ingest_file(store, write(tmp / "broken.json", text), "json1")
    assert report.stored == 3 and report.rejected == 2
    assert set(records(store)) == {"C1", "C2", "C4"}
    reasons = [q.reason for q in quarantine(store)]
    assert "invalid JSON at line 4" in reasons[0]
    assert "truncated" in reasons[1]


def test_hostile_encodings_and_values(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    body = json.dumps([case(1)], ensure_ascii=False)
    assert ingest_file(store, write(tmp / "bom.json", codecs.BOM_UTF8 + body.encode()), "json1").stored == 1
    utf16 = write(tmp / "u16.json", json.dumps([case(2)]).encode("utf-16-le"))  # no BOM: told by its NULs
    assert ingest_file(store, utf16, "json1").stored == 1
    # Mixed encodings: one line in Windows-1252 inside a UTF-8 file; nothing lost, the report says so.
    mixed = ("[\n" + json.dumps(case(3), ensure_ascii=False).replace("note 3", "caf\u00e9") + ",\n").encode() + (
        json.dumps(case(4), ensure_ascii=False).replace("note 4", "h\u00f4tel") + "\n]"
    ).encode("cp1252")
    report = ingest_file(store, write(tmp / "mixed.json", mixed), "json1")
    assert report.stored == 2 and any("Windows-1252" in w for w in report.warnings)
    assert values(entities(records(store)["C4"].payload, "Incident")[0], "narrative") == ["h\u00f4tel"]
    formula = case(5)
    formula["case"]["note"] = '=HYPERLINK("http://evil","x")'
    formula["people"][0]["name"]["full"] = "@SUM(1+1), BOB"
    ingest_file(store, write(tmp / "f.json", json.dumps([formula])), "json1")
    payload = records(store)["C5"].payload
    assert values(entities(payload, "Incident")[0], "narrative") == ['=HYPERLINK("http://evil","x")']


def test_unreadable_files_store_nothing(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    for name, content in {
        "empty.json": b"   \n",
        "binary.json": os.urandom(4096).replace(b"\n", b"\x00") + b"\x00" * 64,
        "text.json": b"hello, this is not json",
        "cut.json": b"[",
        "noarray.json": json.dumps({"data": {"other": []}}).encode(),
    }.items():
        source = "json2" if name == "noarray.json" else "json1"
        with pytest.raises(UnreadableFile):
            ingest_file(store, write(tmp / name, content), source)
    assert count(store, t.ingest_batch) == 0 and count(store, t.record) == 0


def test_huge_field_is_quarantined_and_neighbours_land(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    store.settings = type(store.settings)(**{**store.settings.__dict__, "max_field_bytes": 1024 * 1024})
    big = case(2)
    big["case"]["note"] = "x" * (50 * 1024 * 1024)
    f = tmp / "big.json"
    with f.open("w") as handle:
        handle.write("[" + json.dumps(case(1)) + ",\n")
        json.dump(big, handle)
        handle.write(",\n" + json.dumps(case(3)) + "]")
    report = ingest_file(store, f, "json1")
    assert (report.stored, report.rejected) == (2, 1)
    assert set(records(store)) == {"C1", "C3"}
    assert "larger than the limit" in quarantine(store)[0].reason
    # The same in NDJSON: the 50 MB line is skipped, not held, and the next lines land.
    nd = tmp / "big.ndjson"
    with nd.open("w") as handle:
        handle.write(json.dumps(case(4)) + "\n")
        json.dump(big, handle)
        handle.write("\n" + json.dumps(case(5)) + "\n")
    report = ingest_file(store, nd, "json1")
    assert (report.stored, report.rejected) == (2, 1)
    assert "line 2: record larger than the limit" in quarantine(store)[1].reason


def test_cli_exit_codes(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    ok = cli_ingest(store, write(tmp / "ok.json", json.dumps([case(1)])), "json1")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["stored"] == 1
    partial = cli_ingest(store, write(tmp / "p.ndjson", json.dumps(case(2)) + "\n{oops\n"), "json1")
    assert partial.returncode == 3, partial.stderr
    unreadable = cli_ingest(store, write(tmp / "u.json", b"\x00\x01\x02" * 100), "json1")
    assert unreadable.returncode == 4 and "binary" in unreadable.stderr
