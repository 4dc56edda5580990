"""Ingest benchmark: generated person+incident rows through the CSV connector, profile and store.

For each store (SQLite file, throwaway PostgreSQL 15 cluster) it prints, in one run:

- the import: ``ingest_file`` with the shipped ``demo_stl_rms`` profile, in a child
  process whose peak resident memory (its own and its worker's) is measured;
- the baseline: the same file bulk-loaded into a bare table of the same database with
  text columns, the simplest fast load each engine has: SQLite one transaction of
  ``executemany`` fed by ``csv.reader``; PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)``;
- the ratio import rate / baseline rate (target >= 0.25) and the peak memory (target
  < 500 MB, flat between the 1M-row and the 4M-row file: ``--memory-check``).

    .venv/bin/python bench/ingest.py                     # 1,000,000 rows, both stores
    .venv/bin/python bench/ingest.py --rows 2000 --stores sqlite
    .venv/bin/python bench/ingest.py --memory-check      # also a 4,000,000-row import
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROFILE = "demo_stl_rms"
SOURCE = "bench-rms"


def generate_file(rows: int, seed: int, folder: Path) -> Path:
    from fusionhub.demo import generate

    started = time.perf_counter()
    manifest = generate(folder, rows, seed, sources=("stl_rms",), ground_truth=False)
    path = folder / manifest["sources"]["stl_rms"]["file"]
    print(
        f"generated {rows:,} person+incident rows ({path.stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return path


def prepare_store(url: str) -> None:
    from fusionhub.ingest.sources import add_agency, add_source
    from fusionhub.store import Store

    store = Store(url)
    store.init()
    add_agency(store, "BENCH", "Benchmark agency")
    add_source(store, SOURCE, "BENCH", "rms", profile=PROFILE)
    store.dispose()


def _own_peak(pid: int) -> int:
    """The process's own peak resident memory in bytes (``VmHWM``; 0 if it is gone).

    Not ``ru_maxrss``: Linux carries a process's peak across ``fork`` + ``exec`` into
    the program it runs, so a child's ``ru_maxrss`` starts at its parent's peak (this
    script's, after generating the file: 260 MB at 1M rows, 450 MB at 4M), and a
    mapping worker's at the importer's. ``VmHWM`` starts afresh at ``exec``.
    """
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class PeakRss:
    """Polls a process and its children; keeps the importer's peak and the peak of the sum.

    Each sample adds the importer's peak to each worker's own peak so far (``VmHWM``),
    so a short spike between two samples still counts; the total is an upper bound.
    """

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak_main = 0
        self.peak_total = 0
        self.children: dict[int, int] = {}  # pid -> own peak so far
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                main = max(self.process.memory_info().rss, _own_peak(self.process.pid))
                live = self.process.children(recursive=True)
            except psutil.Error:
                break
            for child in live:
                self.children[child.pid] = max(self.children.get(child.pid, 0), _own_peak(child.pid))
            self.peak_main = max(self.peak_main, main)
            # Workers that have exited no longer count towards the sum.
            total = main + sum(self.children.get(child.pid, 0) for child in live)
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_import(url: str, path: Path, data_dir: Path) -> dict[str, Any]:
    """Import in a child process, as ``fusionhub ingest`` would run; measure its memory."""
    env = {**os.environ, "FUSIONHUB_DATA": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child-import", url, str(path)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    meter = PeakRss(proc.pid)
    out, _ = proc.communicate()
    meter.stop()
    if proc.returncode != 0:
        raise SystemExit(f"import failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    # The importer reports its own peak (VmHWM) as it finishes, after the poller's last look.
    result["peak_rss_mb"] = max(meter.peak_main, result["own_peak_bytes"]) / 2**20
    result["peak_rss_total_mb"] = max(meter.peak_total, result["own_peak_bytes"]) / 2**20
    result["worker_peaks_mb"] = sorted(round(v / 2**20, 1) for v in meter.children.values())
    return result


def child_import(url: str, path: str) -> None:
    import resource

    from fusionhub.ingest.pipeline import ingest_file
    from fusionhub.store import Store

    store = Store(url)
    cpu_before = _cpu_seconds(resource)
    started = time.perf_counter()
    report = ingest_file(store, path, SOURCE)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds(resource) - cpu_before
    store.dispose()
    print(
        json.dumps(
            {
                "read": report.read,
                "stored": report.stored,
                "rejected": report.rejected,
                "status": report.status,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "own_peak_bytes": _own_peak(os.getpid()),
            }
        )
    )


def _cpu_seconds(resource: Any) -> float:
    """CPU time of this process and its finished children (the mapping workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def raw_sqlite(db_file: Path, path: Path) -> tuple[int, float]:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{c}" TEXT' for c in header)
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute(f"CREATE TABLE bench_raw ({columns})")
    marks = ", ".join("?" for _ in header)
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO bench_raw VALUES ({marks})", reader)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    rows = conn.execute("SELECT count(*) FROM bench_raw").fetchone()[0]
    conn.execute("DROP TABLE bench_raw")
    conn.close()
    return rows, seconds


def raw_postgresql(dsn: str, path: Path) -> tuple[int, float]:
    import psycopg

    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{c}" text' for c in header)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bench_raw ({columns})")
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                with path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_raw").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE bench_raw")
    return int(rows), seconds


def bench_store(engine: str, path: Path, rows: int, work: Path, cluster: Any) -> dict[str, Any]:
    data_dir = work / f"data-{engine}-{rows}"
    data_dir.mkdir(exist_ok=True)
    if engine == "sqlite":
        db_file = data_dir / "bench.db"
        url = f"sqlite:///{db_file}"
    else:
        url = cluster.create_database(f"bench_{rows}_{int(time.time())}")
    prepare_store(url)
    imported = run_import(url, path, data_dir)
    if engine == "sqlite":
        raw_rows, raw_seconds = raw_sqlite(db_file, path)
    else:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        raw_rows, raw_seconds = raw_postgresql(dsn, path)
    rate = imported["read"] / imported["seconds"]
    raw_rate = raw_rows / raw_seconds
    result = {
        "store": engine,
        "rows": rows,
        "stored": imported["stored"],
        "rejected": imported["rejected"],
        "import_seconds": round(imported["seconds"], 2),
        "import_rows_per_s": round(rate),
        "raw_seconds": round(raw_seconds, 2),
        "raw_rows_per_s": round(raw_rate),
        "ratio": round(rate / raw_rate, 3),
        "peak_rss_mb": round(imported["peak_rss_mb"], 1),
        "peak_rss_with_worker_mb": round(imported["peak_rss_total_mb"], 1),
        "worker_peak_rss_mb": imported["worker_peaks_mb"],
        # On a shared machine wall time depends on the neighbours; CPU per row does not.
        "import_cpu_us_per_row": round(imported["cpu_seconds"] / max(1, imported["read"]) * 1e6, 1),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(
        f"{engine:10s} {rows:>9,} rows  import {rate:>9,.0f} rows/s ({imported['seconds']:.1f} s, "
        f"{imported['stored']:,} stored, {imported['rejected']} quarantined)  raw {raw_rate:>9,.0f} rows/s "
        f"({raw_seconds:.1f} s)  ratio {result['ratio']:.3f} (target >= 0.25)  "
        f"peak RSS {result['peak_rss_mb']:.0f} MB, with workers {result['peak_rss_with_worker_mb']:.0f} MB "
        f"(target < 500)  import CPU {result['import_cpu_us_per_row']:.0f} us/row (workers included), "
        f"load average {result['load_average']}",
        flush=True,
    )
    if engine == "sqlite":
        db_file.unlink(missing_ok=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-check", action="store_true", help="also import a 4x larger file; compare peaks")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child-import", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    engines = [e.strip() for e in args.stores.split(",") if e.strip()]
    work = Path(tempfile.mkdtemp(prefix="fusionhub-bench-", dir=args.workdir))
    cluster = None
    results: list[dict[str, Any]] = []
    try:
        if "postgresql" in engines:
            from tests.pgcluster import PgCluster

            cluster = PgCluster()
            cluster.start()
        sizes = [args.rows, args.rows * 4] if args.memory_check else [args.rows]
        for rows in sizes:
            folder = work / f"gen-{rows}"
            path = generate_file(rows, args.seed, folder)
            for engine in engines:
                results.append(bench_store(engine, path, rows, work, cluster))
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    summary: dict[str, Any] = {"results": results}
    if args.memory_check:
        for engine in engines:
            small, large = (r for r in results if r["store"] == engine)
            summary[f"{engine}_memory_growth_mb"] = round(large["peak_rss_mb"] - small["peak_rss_mb"], 1)
            summary[f"{engine}_memory_growth_with_workers_mb"] = round(
                large["peak_rss_with_worker_mb"] - small["peak_rss_with_worker_mb"], 1
            )
            print(
                f"{engine:10s} peak RSS {small['rows']:,} rows {small['peak_rss_mb']:.0f} MB "
                f"(with workers {small['peak_rss_with_worker_mb']:.0f}), {large['rows']:,} rows "
                f"{large['peak_rss_mb']:.0f} MB (with workers {large['peak_rss_with_worker_mb']:.0f}); target < 500"
            )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
