"""A small run of bench/ingest.py, so the benchmark cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ingest_bench_runs_small() -> None:
    engines = os.environ.get("FUSIONHUB_TEST_ENGINES", "sqlite,postgresql")
    # Force the mapping workers on, as a large file would.
    env = {**os.environ, "FUSIONHUB_INGEST_PARALLEL_BYTES": "0"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ingest.py"), "--rows", "2000", "--stores", engines],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    stores = [r["store"] for r in summary["results"]]
    assert stores == [e for e in engines.split(",") if e]
    for row in summary["results"]:
        assert row["stored"] == 2000 and row["rejected"] == 0
        assert row["import_rows_per_s"] > 0 and row["raw_rows_per_s"] > 0 and row["ratio"] > 0
        assert 0 < row["peak_rss_mb"] <= row["peak_rss_with_worker_mb"]
        assert row["import_cpu_us_per_row"] > 0
    assert "ratio" in result.stdout and "raw" in result.stdout


def test_peak_is_the_childs_own_not_its_parents() -> None:
    """The benchmark's peak of a child process must not include its parent's.

    ``ru_maxrss`` does (Linux keeps the peak across fork + exec): it made the importer of
    a 4M-row file look 450 MB large when it was the benchmark's generator that was.
    """
    script = (
        "import json, os, resource, subprocess, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "ballast = bytearray(300 * 2**20)\n"
        "ballast[:: 4096] = b'x' * len(ballast[:: 4096])\n"
        "del ballast\n"
        "child = ('import json, os, resource, sys; sys.path.insert(0, %r); from bench.ingest import _own_peak; '\n"
        "    'print(json.dumps([_own_peak(os.getpid()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]))')\n"
        f"print(subprocess.run([sys.executable, '-c', child % {str(ROOT)!r}], capture_output=True, text=True).stdout)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    own, inherited = json.loads(result.stdout.strip().splitlines()[-1])
    assert inherited >= 300 * 2**20  # the parent's peak, carried into the child
    assert 0 < own < 150 * 2**20  # the child's own: an interpreter and the bench module
