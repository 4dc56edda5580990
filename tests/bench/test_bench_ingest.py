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
