"""The CSV connector and the import pipeline against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.policy.reader import RecordReader
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories

PROFILE = """
name: people
format: csv
record:
  id: "{id}"
  occurred: incident.occurredAt
entities:
  person:
    schema: Person
    properties:
      name: {column: name, parse: last_first}
      birthDate: {column: dob, format: "%m/%d/%Y"}
      phone: phone
  incident:
    schema: Incident
    properties:
      caseNumber: {column: id, required: true}
      occurredAt: {column: when, format: "%Y-%m-%d %H:%M"}
      narrative: note
  role:
    schema: Involvement
    properties:
      party: person
      event: incident
      role: {literal: suspect}
"""
HEADER = "id,name,dob,phone,when,note\n"


@pytest.fixture
def setup(store: Store, tmp_path: Path) -> tuple[Store, Path]:
    profile = tmp_path / "people.yaml"
    profile.write_text(PROFILE)
    factories.source(store, "rms1", profile=str(profile))
    factories.user(store, "ana")
    return store, tmp_path


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def count(store: Store, table: t.Table) -> int:  # type: ignore[name-defined]
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_ingest_reingest_and_versions(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    f = write(
        tmp / "a.csv",
        HEADER + '1,"SMITH, JOHN A",04/09/1981,314-555-0101,2024-01-02 10:00,first\n'
        '2,"DOE, JANE",12/31/1990,,2024-01-03 11:30,second\n',
    )
    report = ingest_file(store, f, "rms1")
    assert (report.read, report.stored, report.updated, report.unchanged, report.rejected) == (2, 2, 0, 0, 0)
    again = ingest_file(store, f, "rms1")
    assert (again.stored, again.updated, again.unchanged) == (0, 0, 2)
    assert count(store, t.record) == 2
    f2 = write(tmp / "b.csv", HEADER + '1,"SMITH, JOHN A",04/09/1981,314-555-0199,2024-01-02 10:00,first\n')
    changed = ingest_file(store, f2, "rms1")
    assert (changed.stored, changed.updated, changed.unchanged) == (0, 1, 0)
    assert count(store, t.record) == 2
    with store.connect() as conn:
        rid = conn.execute(select(t.record.c.id).where(t.record.c.source_record_id == "1")).scalar_one()
    view = RecordReader(store, factories.user(store, "bob"), "case 24-001").get(rid)
    assert view.version == 2
    assert [v["version"] for v in view.versions] == [1]
    person = next(e for e in view.payload["entities"] if e["schema"] == "Person")
    assert person["properties"]["phone"] == [["+13145550199", "314-555-0199"]]
    assert person["properties"]["lastName"] == ["SMITH"]
    assert person["properties"]["firstName"] == ["JOHN"]
    old_person = next(e for e in view.versions[0]["payload"]["entities"] if e["schema"] == "Person")
    assert old_person["properties"]["phone"] == [["+13145550101", "314-555-0101"]]
    assert view.to_json()["provenance"]["source"] == "rms1"


def test_change_sequence_grows_with_every_change(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    f = write(tmp / "a.csv", HEADER + "".join(f'{i},"X, Y{i}",,,2024-01-02 10:00,n\n' for i in range(1, 21)))
    r1 = ingest_file(store, f, "rms1", batch_size=7)
    assert (r1.first_seq, r1.last_seq) == (1, 20)
    f2 = write(tmp / "b.csv", HEADER + '3,"X, Z",,,2024-01-02 10:00,n\n')
    r2 = ingest_file(store, f2, "rms1")
    assert r2.first_seq == r2.last_seq == 21
    with store.connect() as conn:
        seqs = conn.execute(select(t.record.c.seq).order_by(t.record.c.seq)).scalars().all()
    assert len(set(seqs)) == 20 and max(seqs) == store.last_seq() == 21


def test_bad_rows_quarantined_good_rows_land(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    f = write(
        tmp / "bad.csv",
        HEADER
        + '1,"SMITH, JOHN",04/09/1981,,2024-01-02 10:00,ok\n'
        + "2,too,few\n"
        + ',"NOID, X",,,2024-01-02 10:00,no id\n'
        + '4,"DOE, J",31/31/1990,,2024-01-02 10:00,bad dob kept as dropped value\n'
        + '5,"LAST, ROW",,,2024-01-02 10:00,ok\n',
    )
    report = ingest_file(store, f, "rms1")
    assert report.stored == 3 and report.rejected == 2 and report.exit_code == 3
    reasons = {q["row"]: q["reason"] for q in report.quarantine_sample}
    assert "6 fields" in reasons[2] or "3 fields" in reasons[2]
    assert "required" in reasons[3] or "record id" in reasons[3]
    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == "4")).scalar_one()
    assert payload["dropped"][0]["property"] == "birthDate"


def test_hostile_and_odd_encodings(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    bom = write(tmp / "bom.csv", b"\xef\xbb\xbf" + (HEADER + '1,"SMITH, JOHN",,,2024-01-02 10:00,x\n').encode())
    assert ingest_file(store, bom, "rms1").stored == 1
    latin = write(tmp / "latin.csv", (HEADER + '2,"LUMI\xc8RE, ANNE",,,2024-01-02 10:00,h\xf4tel\n').encode("cp1252"))
    mixed = latin.read_bytes() + '3,"MÜLLER, JO",,,2024-01-02 10:00,utf8 row\n'.encode()
    write(tmp / "mixed.csv", mixed)
    report = ingest_file(store, tmp / "mixed.csv", "rms1")
    assert report.stored == 2 and report.rejected == 0
    assert any("Windows-1252" in w for w in report.warnings)
    utf16 = write(tmp / "u16.csv", (HEADER + '4,"SMITH, ANN",,,2024-01-02 10:00,x\n').encode("utf-16"))
    assert ingest_file(store, utf16, "rms1").stored == 1
    formula = write(tmp / "f.csv", HEADER + '5,"=HYPERLINK(""http://x""),EVIL",,,2024-01-02 10:00,"=1+2"\n')
    report = ingest_file(store, formula, "rms1")
    assert report.stored == 1
    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == "5")).scalar_one()
    narrative = next(e for e in payload["entities"] if e["schema"] == "Incident")["properties"]["narrative"]
    assert narrative == ["=1+2"]  # stored verbatim as text, never evaluated


def test_unreadable_files_store_nothing(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    before = count(store, t.ingest_batch)
    for name, content in {
        "empty.csv": b"",
        "binary.csv": os.urandom(4096).replace(b"\n", b"\x00") + b"\x00" * 100,
    }.items():
        with pytest.raises(UnreadableFile):
            ingest_file(store, write(tmp / name, content), "rms1")
    with pytest.raises(UnreadableFile):
        ingest_file(store, tmp / "missing.csv", "rms1")
    assert count(store, t.ingest_batch) == before and count(store, t.record) == 0


def test_truncated_file_and_huge_field(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    store.settings = type(store.settings)(**{**store.settings.__dict__, "max_field_bytes": 1024 * 1024})
    big = "x" * (50 * 1024 * 1024)
    f = write(
        tmp / "big.csv",
        HEADER
        + '1,"A, B",,,2024-01-02 10:00,ok\n'
        + f'2,"C, D",,,2024-01-02 10:00,{big}\n'
        + '3,"E, F",,,2024-01-02 10:00,ok\n'
        + '4,"TRUNC, ATED",,,2024-01-02 10:00,"no end quote',
    )
    report = ingest_file(store, f, "rms1")
    assert report.stored >= 2
    assert report.rejected >= 1
    with store.connect() as conn:
        ids = set(conn.execute(select(t.record.c.source_record_id)).scalars())
    assert {"1", "3"} <= ids and "2" not in ids


def test_sigkill_mid_file_then_rerun_completes(setup: tuple[Store, Path]) -> None:
    store, tmp = setup
    rows = 60_000
    f = tmp / "many.csv"
    with f.open("w") as handle:
        handle.write(HEADER)
        for i in range(rows):
            handle.write(f'{i},"NAME{i}, FIRST",,,2024-01-02 10:00,row {i}\n')
    env = {**os.environ, "FUSIONHUB_STORE": store.url, "FUSIONHUB_BATCH_SIZE": "2000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fusionhub", "ingest", str(f), "--source", "rms1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while time.time() < deadline and count(store, t.record) < 4000:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    landed = count(store, t.record)
    assert 0 < landed < rows
    assert landed % 2000 == 0  # whole chunks only
    report = ingest_file(store, f, "rms1")
    assert report.unchanged == landed and report.stored == rows - landed
    assert count(store, t.record) == rows
    assert json.dumps(report.to_json())
