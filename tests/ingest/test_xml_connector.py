"""The XML connector and the NIBRS profile, against real stores (SQLite and PostgreSQL).

The first test case is the real NIEM exchange: the FBI NIBRS IEPD 2019.1 samples.
"""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.ingest.helpers import cli_ingest, count, entities, everything_stored, quarantine, records, values, write

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "niem" / "nibrs-iepd-2019.1" / "iep-sample"
INCIDENT = "WVNDX0100/GROUP A INCIDENT REPORT/000054236732"
ARREST = "WVNDX0100/GROUP B ARREST REPORT/12345"

# A small NIEM-style exchange of our own for the hostile cases: one record per j:Case.
CASES = """
name: cases_xml
format: xml
namespaces:
  j: http://example.org/j
  nc: http://example.org/nc
options: {record_tag: "j:Case"%s}
record:
  id: "{nc:Id}"
entities:
  incident:
    schema: Incident
    properties:
      caseNumber: {column: nc:Id, required: true}
      narrative: nc:Note
"""


def cases_xml(*notes: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> str:
    body = "".join(
        f"  <j:Case><nc:Id>{n}</nc:Id><nc:Note>{note}</nc:Note></j:Case>\n" for n, note in enumerate(notes, 1)
    )
    return f'{prolog}<j:Batch xmlns:j="http://example.org/j" xmlns:nc="http://example.org/nc">\n{body}</j:Batch>\n'


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    factories.source(store, "nibrs1", profile="nibrs")
    (tmp_path / "cases.yaml").write_text(CASES % "")
    (tmp_path / "cases_dtd.yaml").write_text(CASES % ", allow_doctype: true")
    factories.source(store, "xml1", profile=str(tmp_path / "cases.yaml"))
    factories.source(store, "xml2", profile=str(tmp_path / "cases_dtd.yaml"))
    return store, tmp_path


def test_nibrs_group_a_incident(setup: tuple[Store, Path]) -> None:
    store, _ = setup
    report = ingest_file(store, SAMPLES / "nibrs_GroupAIncident_Sample.xml", "nibrs1")
    assert (report.read, report.stored, report.rejected, report.exit_code) == (1, 1, 0, 0)
    row = records(store)[INCIDENT]
    assert (row.record_class, row.status, row.occurred_at) == ("incident", "active", "2016-02-19T10:00:00")
    payload = row.payload
    counts = {s: len(entities(payload, s)) for s in ("Incident", "Person", "Involvement", "Property", "Location")}
    assert counts == {"Incident": 1, "Person": 3, "Involvement": 3, "Property": 6, "Location": 1}
    incident = entities(payload, "Incident")[0]
    assert values(incident, "caseNumber") == ["000054236732"]
    assert values(incident, "offenseCode") == ["13A"]
    assert values(incident, "offenseDescription") == ["Aggravated Assault"]
    assert values(incident, "premise") == ["Cyberspace"]
    people = {e["key"]: e for e in entities(payload, "Person")}
    assert values(people["person[PersonVictim1]"], "age") == ["32"]
    assert values(people["person[PersonVictim2]"], "age") == ["BABY"]
    assert values(people["person[PersonSubject1]"], "age") == ["25-30"]
    assert values(people["person[PersonSubject1]"], "sex") == ["F"]
    assert values(people["person[PersonVictim1]"], "race") == ["B"]
    roles = {(values(e, "role")[0], e["properties"]["party"][0]) for e in entities(payload, "Involvement")}
    assert roles == {
        ("VICTIM", people["person[PersonVictim1]"]["id"]),
        ("VICTIM", people["person[PersonVictim2]"]["id"]),
        ("SUSPECT", people["person[PersonSubject1]"]["id"]),
    }
    assert all(e["properties"]["event"] == [incident["id"]] for e in entities(payload, "Involvement"))
    statuses = sorted(values(p, "lossType")[0] for p in entities(payload, "Property"))
    assert statuses == ["BURNED", "COUNTERFEITED", "DESTROYED_DAMAGED_VANDALIZED", "NONE", "RECOVERED", "SEIZED"]
    seized = next(e for e in entities(payload, "ObjectInvolvement") if values(e, "role") == ["SEIZED"])
    drugs = next(p for p in entities(payload, "Property") if values(p, "lossType") == ["SEIZED"])
    assert seized["properties"]["object"] == [drugs["id"]] and values(drugs, "propertyType") == ["drugs/ narcotics"]
    # Elements the profile does not map are kept under their paths, never dropped.
    assert payload["unmapped"]["j:Victim[0].j:VictimInjury.j:InjuryCategoryCode"] == "N"
    assert payload["unmapped"]["nc:Substance.j:DrugCategoryCode"] == "H"
    again = ingest_file(store, SAMPLES / "nibrs_GroupAIncident_Sample.xml", "nibrs1")
    assert (again.stored, again.updated, again.unchanged) == (0, 0, 1)


def test_nibrs_replace_delete_arrests_and_zero_report(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    ingest_file(store, SAMPLES / "nibrs_GroupAIncident_Sample.xml", "nibrs1")
    # GroupAReplace has a licence comment before <?xml (not well-formed as distributed).
    replace = ingest_file(store, SAMPLES / "nibrs_GroupAReplace_Sample.xml", "nibrs1")
    assert (replace.updated, replace.rejected) == (1, 0)
    assert any("before the XML declaration" in w for w in replace.warnings)
    row = records(store)[INCIDENT]
    assert row.version == 2 and values(entities(row.payload, "Incident")[0], "premise") == ["lake/ waterway/ beach"]
    # A delete of that incident cancels it (a new version, the old ones kept).
    delete = (SAMPLES / "nibrs_IncidentDelete_Sample.xml").read_text().replace("020160005029", "000054236732")
    ingest_file(store, write(tmp / "delete.xml", delete), "nibrs1")
    row = records(store)[INCIDENT]
    assert (row.status, row.version) == ("cancelled", 3)
    assert ingest_file(store, SAMPLES / "nibrs_IncidentDelete_Sample.xml", "nibrs1").stored == 1
    assert records(store)["WVNDX0100/GROUP A INCIDENT REPORT/020160005029"].status == "cancelled"

    arrest = ingest_file(store, SAMPLES / "nibrs_GroupBArrest_Sample.xml", "nibrs1")
    assert arrest.stored == 1
    row = records(store)[ARREST]
    assert row.record_class == "arrest"
    (arrest_entity,) = entities(row.payload, "Arrest")
    assert values(arrest_entity, "chargeCode") == ["90Z"] and values(arrest_entity, "arrestType") == ["On-View Arrest"]
    (person,) = entities(row.payload, "Person")
    (role,) = entities(row.payload, "Involvement")
    assert values(role, "role") == ["ARRESTEE"]
    assert role["properties"]["party"] == [person["id"]] and role["properties"]["event"] == [arrest_entity["id"]]
    ingest_file(store, SAMPLES / "nibrs_GroupBArrestDelete_Sample.xml", "nibrs1")
    assert records(store)[ARREST].status == "cancelled"

    zero = ingest_file(store, SAMPLES / "nibrs_ZeroReport_Sample.xml", "nibrs1")
    assert (zero.read, zero.skipped, zero.stored, zero.exit_code) == (1, 1, 0, 0)

    full = ingest_file(store, SAMPLES / "nibrs_AllFields_Sample.xml", "nibrs1")
    assert full.stored == 1
    payload = records(store)["WVNDX0100/GROUP A INCIDENT REPORT/54236732"].payload
    assert len(entities(payload, "Person")) == 4 and len(entities(payload, "Property")) == 8
    arrestee_roles = [e for e in entities(payload, "Involvement") if values(e, "role") == ["ARRESTEE"]]
    assert len(arrestee_roles) == 2  # in the incident, and in the arrest
    assert values(entities(payload, "Arrest")[0], "charge") == ["Human Trafficking, Commercial Sex Acts"]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""
XXE_FILE = '<?xml version="1.0"?>\n<!DOCTYPE j:Batch [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
XXE_HTTP = '<?xml version="1.0"?>\n<!DOCTYPE j:Batch [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/evil.dtd">]>\n'
XXE_DTD = '<?xml version="1.0"?>\n<!DOCTYPE j:Batch SYSTEM "http://127.0.0.1:9/evil.dtd">\n'


def test_entity_bombs_and_external_entities_are_never_expanded(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    cases = {
        "laughs.xml": cases_xml("ok", "&lol9;", prolog=BILLION_LAUGHS),
        "xxe_file.xml": cases_xml("ok", "&xxe;", prolog=XXE_FILE),
        "xxe_http.xml": cases_xml("ok", "&xxe;", prolog=XXE_HTTP),
        "dtd_http.xml": cases_xml("ok", prolog=XXE_DTD),
    }
    # A DTD hidden behind more comments than the prolog check reads is refused too.
    cases["hidden.xml"] = cases_xml("&xxe;", prolog=XXE_FILE.replace("\n", "\n<!--" + "c" * (1 << 20) + "-->\n", 1))
    for name, text in cases.items():
        # Refused outright: a DTD has no place in an exchange.
        with pytest.raises(UnreadableFile, match=r"DOCTYPE|no root element"):
            ingest_file(store, write(tmp / name, text), "xml1")
    assert count(store, t.ingest_batch) == 0 and count(store, t.record) == 0
    # Even where a profile allows a DTD, nothing is expanded, read or fetched: the record
    # holding the entity is quarantined and its neighbours land.
    for name in ("laughs.xml", "xxe_file.xml", "xxe_http.xml"):
        report = ingest_file(store, tmp / name, "xml2")
        assert (report.stored + report.unchanged, report.rejected) == (1, 1), name
        reason = report.quarantine_sample[0]["reason"]
        # Either we see the entity reference, or libxml2's amplification guard stops the file.
        assert "never expanded" in reason or "amplification" in reason, reason
    stored = everything_stored(store)
    assert "root:" not in stored and "lollollol" not in stored
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    assert passwd not in stored


def test_hostile_files(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    bom = write(tmp / "bom.xml", codecs.BOM_UTF8 + cases_xml("a").encode())
    assert ingest_file(store, bom, "xml1").stored == 1
    utf16 = cases_xml("b", prolog='<?xml version="1.0" encoding="UTF-16"?>\n').encode("utf-16")
    assert ingest_file(store, write(tmp / "u16.xml", utf16), "xml1").updated == 1  # record 1, a new note
    # Declared UTF-8 with one Windows-1252 line: read, not lost, and said so.
    mixed = cases_xml("caf\u00e9", "h\u00f4tel").encode("utf-8")
    mixed = mixed.replace("h\u00f4tel".encode(), "h\u00f4tel".encode("cp1252"))
    report = ingest_file(store, write(tmp / "mixed.xml", mixed), "xml1")
    assert report.rejected == 0 and any("Windows-1252" in w for w in report.warnings)
    assert values(entities(records(store)["2"].payload, "Incident")[0], "narrative") == ["h\u00f4tel"]
    # Formula-looking text is stored as it came, never evaluated.
    formula = cases_xml("=HYPERLINK(&quot;http://evil&quot;)", "+SUM(A1)", "@cmd")
    ingest_file(store, write(tmp / "formula.xml", formula), "xml1")
    notes = {k: values(entities(r.payload, "Incident")[0], "narrative") for k, r in records(store).items()}
    assert notes["1"] == ['=HYPERLINK("http://evil")'] and notes["2"] == ["+SUM(A1)"] and notes["3"] == ["@cmd"]
    for name, content in {
        "empty.xml": b"",
        "binary.xml": os.urandom(4096).replace(b"<", b"\x00") + b"\x00" * 64,
        "text.xml": b"this is not xml at all",
        "broken.xml": b"<?xml version='1.0'?><j:Batch xmlns:j='x'><unclosed>",
    }.items():
        with pytest.raises(UnreadableFile):
            ingest_file(store, write(tmp / name, content), "xml1")


def test_truncated_file_and_huge_element_keep_the_records_before(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    text = cases_xml("one", "two", "three")
    cut = text[: text.index("three") + 2]
    report = ingest_file(store, write(tmp / "cut.xml", cut), "xml1")
    assert (report.stored, report.rejected, report.exit_code) == (2, 1, 3)
    assert "the rest of the file was not read" in quarantine(store)[0].reason
    big = tmp / "big.xml"
    with big.open("w") as handle:
        head, _, tail = cases_xml("first", "HUGE", "last").partition("HUGE")
        handle.write(head)
        handle.write("x" * (50 * 1024 * 1024))
        handle.write(tail)
    report = ingest_file(store, big, "xml1")
    assert report.rejected == 1 and "10 MB" in report.quarantine_sample[0]["reason"]
    assert values(entities(records(store)["1"].payload, "Incident")[0], "narrative") == ["first"]


def test_cli_exit_codes(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    ok = cli_ingest(store, SAMPLES / "nibrs_GroupAIncident_Sample.xml", "nibrs1")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["stored"] == 1
    text = cases_xml("one", "two")
    partial = cli_ingest(store, write(tmp / "cut.xml", text[: text.index("two")]), "xml1")
    assert partial.returncode == 3, partial.stderr
    bomb = cli_ingest(store, write(tmp / "bomb.xml", cases_xml("&lol9;", prolog=BILLION_LAUGHS)), "xml1")
    assert bomb.returncode == 4 and "DOCTYPE" in bomb.stderr
