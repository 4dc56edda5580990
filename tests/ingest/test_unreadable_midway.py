"""A file that becomes unreadable after some chunks: those chunks stay, the CLI exits 4.

Every connector shipped turns a damaged part of a file into quarantined rows where it
can; what it cannot read past (a read error, a stream that stops making sense) raises
``UnreadableFile``. Here the CSV connector reads a real file and the storage under it
"fails" after 25 rows, as a disk or network share would: the connector is the shipped
one, wrapped so that its row iterator raises at that point.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fusionhub.ingest.connectors import CONNECTORS, ConnectorInfo, SourceRow
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.ingest.helpers import cli_ingest, count, records, write

PROFILE = """
name: failing_disk
format: csv_failing
record:
  id: "{ID}"
entities:
  incident:
    schema: Incident
    properties:
      caseNumber: {column: ID, required: true}
      narrative: NOTE
"""
FAIL_AFTER = 25


def _failing_csv(path: Path, options: dict[str, Any], info: ConnectorInfo) -> Iterator[SourceRow]:
    rows = CONNECTORS["csv"](path, options, info)

    def read() -> Iterator[SourceRow]:
        for row in rows:
            if row.number > FAIL_AFTER:
                raise UnreadableFile(f"{path.name}: read error at byte {info.position} (Input/output error)")
            yield row

    return read()


@pytest.fixture
def failing(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Path]:
    monkeypatch.setitem(CONNECTORS, "csv_failing", _failing_csv)
    monkeypatch.setenv("FUSIONHUB_BATCH_SIZE", "10")
    monkeypatch.setenv("FUSIONHUB_INGEST_PARALLEL_BYTES", "-1")  # mapped here: the wrapper is this process's
    profile = write(tmp_path / "failing.yaml", PROFILE)
    factories.source(store, "disk1", profile=str(profile))
    lines = ["ID,NOTE", *(f"C{n},note {n}" for n in range(1, 41))]
    write(tmp_path / "cases.csv", "\n".join(lines) + "\n")
    return store, tmp_path


def test_cli_reports_unreadable_from_a_row_and_keeps_whole_chunks(failing: tuple[Store, Path]) -> None:
    store, tmp = failing
    result = cli_ingest(store, tmp / "cases.csv", "disk1")
    assert result.returncode == 4, result.stderr
    assert "unreadable after row 20" in result.stderr and "Input/output error" in result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # Chunks of 10: rows 1-20 committed; rows 21-25 were read into a chunk that never committed.
    assert (report["read"], report["stored"], report["status"]) == (20, 20, "failed")
    assert "unreadable after row 20" in report["unreadable"]
    assert set(records(store)) == {f"C{n}" for n in range(1, 21)}
    with store.connect() as conn:
        batch = conn.execute(t.ingest_batch.select()).one()
    assert (batch.status, batch.rows_stored, batch.last_row) == ("failed", 20, 20)
    assert "Input/output error" in (batch.message or "")
    # The file repaired (read with the plain CSV connector), the import completes it without duplicates.
    (tmp / "failing.yaml").write_text(PROFILE.replace("csv_failing", "csv"))
    again = cli_ingest(store, tmp / "cases.csv", "disk1")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["unchanged"] == 20
    assert count(store, t.record) == 40


def test_unreadable_at_the_start_stores_nothing(failing: tuple[Store, Path]) -> None:
    store, tmp = failing
    result = cli_ingest(store, write(tmp / "empty.csv", ""), "disk1")
    assert result.returncode == 4 and "empty" in result.stderr
    assert count(store, t.ingest_batch) == 0 and count(store, t.record) == 0
