"""Large files are mapped in worker processes: same records as inline, whole chunks, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from fusionhub.ingest.pipeline import ingest_file
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories

HEADER = "INCIDENT_NO,SUBJ_SEQ,REPORT_DT,OFFENSE_CODE,OFFENSE_DESC,SUBJ_NAME,SUBJ_DOB,SUBJ_PHONE,VEH_PLATE,VEH_VIN\n"


def write_rows(path: Path, count: int, bad_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for i in range(count):
            if bad_every and i % bad_every == 7:
                handle.write(f"{i},1,not enough fields\n")
                continue
            dob = "02/30/1980" if i % 11 == 3 else f"{1 + i % 12:02d}/{1 + i % 28:02d}/19{50 + i % 50}"
            vin = "1HGCM82633A004352" if i % 5 == 0 else ""
            handle.write(
                f"24-{i:06d},{1 + i % 3},03/0{1 + i % 9}/2024 1{i % 10}:{i % 60:02d},13A,ASSAULT,"
                f'"NAME{i % 997}, FIRST{i % 13} M",{dob},(314) 555-{i % 10000:04d},{"AB" + str(i % 777) if vin else ""},{vin}\n'
            )
    return path


def records(store: Store, source: str) -> dict[str, tuple[str, object]]:
    r, s = t.record.c, t.source.c
    with store.connect() as conn:
        rows = conn.execute(
            select(r.source_record_id, r.content_hash, r.payload)
            .join(t.source, s.id == r.source_id)
            .where(s.name == source)
        ).all()
    return {row.source_record_id: (row.content_hash, row.payload) for row in rows}


def normal(payload: object) -> list[tuple[str, str, dict[str, object]]]:
    """A payload with entity ids (which hash the source's name) replaced by entity keys."""
    entities = payload["entities"]  # type: ignore[index]
    keys = {e["id"]: e["key"] for e in entities}
    return [
        (
            e["schema"],
            e["key"],
            {p: [keys.get(v, v) if isinstance(v, str) else v for v in vs] for p, vs in e["properties"].items()},
        )
        for e in entities
    ]


def quarantined(store: Store, batch_id: int | None) -> list[tuple[int, str]]:
    q = t.quarantine.c
    with store.connect() as conn:
        rows = conn.execute(select(q.row_number, q.reason).where(q.batch_id == batch_id).order_by(q.row_number))
        return [(row.row_number, row.reason) for row in rows]


def test_workers_store_what_inline_stores(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factories.source(store, "inline", profile="demo_stl_rms")
    factories.source(store, "parallel", profile="demo_stl_rms")
    f = write_rows(tmp_path / "rows.csv", 7000, bad_every=500)
    monkeypatch.setenv("FUSIONHUB_INGEST_PARALLEL_BYTES", "-1")
    inline = ingest_file(store, f, "inline", batch_size=1000)
    monkeypatch.setenv("FUSIONHUB_INGEST_PARALLEL_BYTES", "0")
    monkeypatch.setenv("FUSIONHUB_INGEST_WORKERS", "2")
    parallel = ingest_file(store, f, "parallel", batch_size=1000)
    for field in ("read", "stored", "updated", "unchanged", "rejected", "skipped", "status"):
        assert getattr(inline, field) == getattr(parallel, field), field
    assert inline.rejected == 14 and inline.stored == 7000 - 14
    assert inline.details == parallel.details
    mine, theirs = records(store, "inline"), records(store, "parallel")
    assert mine.keys() == theirs.keys()
    for key, (_, payload) in mine.items():
        assert normal(payload) == normal(theirs[key][1]), key
    assert quarantined(store, inline.batch_id) == quarantined(store, parallel.batch_id)
    again = ingest_file(store, f, "parallel", batch_size=1000)
    assert again.unchanged == parallel.stored and again.stored == again.updated == 0


def test_sigkill_with_workers_leaves_whole_chunks_and_no_orphans(store: Store, tmp_path: Path) -> None:
    factories.source(store, "rms1", profile="demo_stl_rms")
    rows = 30_000
    f = write_rows(tmp_path / "many.csv", rows)
    env = {
        **os.environ,
        "FUSIONHUB_STORE": store.url,
        "FUSIONHUB_BATCH_SIZE": "2000",
        "FUSIONHUB_INGEST_PARALLEL_BYTES": "0",
        "FUSIONHUB_INGEST_WORKERS": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fusionhub", "ingest", str(f), "--source", "rms1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def landed() -> int:
        with store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.record)).scalar_one())

    deadline = time.time() + 180
    workers: list[psutil.Process] = []
    while time.time() < deadline and landed() < 4000:
        workers = psutil.Process(proc.pid).children(recursive=True) or workers
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children(recursive=True) or workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert workers, "the import ran without worker processes"
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"worker processes outlived the importer: {alive}"
    count = landed()
    assert 0 < count < rows
    assert count % 2000 == 0  # whole chunks only
    report = ingest_file(store, f, "rms1")
    assert report.unchanged == count and report.stored == rows - count
    assert landed() == rows


def test_unguarded_script_falls_back_to_mapping_in_process(sqlite_store: Store, tmp_path: Path) -> None:
    # A script without `if __name__ == "__main__"`: spawned workers re-run it and die.
    factories.source(sqlite_store, "rms1", profile="demo_stl_rms")
    f = write_rows(tmp_path / "rows.csv", 3000)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from fusionhub.store import Store\n"
        "from fusionhub.ingest.pipeline import ingest_file\n"
        f"report = ingest_file(Store({sqlite_store.url!r}), {str(f)!r}, 'rms1')\n"
        "print(report.stored, report.status, '|'.join(report.warnings))\n"
    )
    env = {**os.environ, "FUSIONHUB_INGEST_PARALLEL_BYTES": "0", "FUSIONHUB_INGEST_WORKERS": "2"}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    stored, status, warnings = result.stdout.strip().splitlines()[-1].split(" ", 2)
    assert (stored, status) == ("3000", "done")
    assert "mapping workers unavailable" in warnings
