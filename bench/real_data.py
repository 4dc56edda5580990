"""Load every real agency export and the FEBRL person files through their shipped profiles.

Prints one line per file: rows read, stored, updated, unchanged, rejected, cancelled and
seconds, and in the same run the baseline the issue names, the data rows each SOURCE.md
documents, with the ratio read / documented (1.000 = every row accounted for). For SLMPD
it also prints the net count the source defines (sum of Count) against the records the
store holds active.

    .venv/bin/python bench/real_data.py                      # fresh SQLite store in a temp dir
    .venv/bin/python bench/real_data.py --store postgresql://user@host/db
    .venv/bin/python bench/real_data.py --files 1            # first file of each source only
    .venv/bin/python bench/real_data.py --only slmpd-crime --reingest
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from fusionhub.ingest.pipeline import IngestReport, ingest_file
from fusionhub.ingest.real_sources import REAL_SOURCES, RealSource
from fusionhub.store import Store
from fusionhub.store import tables as t

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# Data rows per file as documented in each SOURCE.md (the baseline).
DOCUMENTED = {
    "Berkeley_PD_-_Calls_for_Service_2018.csv": 3788,
    "Berkeley_PD_-_Calls_for_Service_2019.csv": 4604,
    "chicago_crimes_2001_2004_sample10k.csv": 10000,
    "houston_crime_2010_jan_aug.csv": 86314,
    "dataset3.csv": 5000,
    "dataset4a.csv": 5000,
    "dataset4b.csv": 5000,
}
SLMPD_TOTAL = 95643  # SOURCE.md: 24 files, 95,643 data rows
COLUMNS = ("read", "stored", "updated", "unchanged", "rejected", "cancelled")


def _slmpd_net(files: list[Path]) -> int:
    """Sum of Count over the files: SLMPD's own definition of the net number of crimes."""
    total = 0
    for path in files:
        with path.open("rb") as handle:
            text = handle.read().decode("utf-8-sig", errors="replace")
        total += sum(int(row["Count"]) for row in csv.DictReader(text.splitlines()))
    return total


def _line(name: str, report: IngestReport, documented: int | None) -> str:
    figures = " ".join(f"{getattr(report, c):>9}" for c in COLUMNS)
    base = f"{documented:>9}" if documented else f"{'':>9}"
    ratio = f"{report.read / documented:>6.3f}" if documented else f"{'':>6}"
    return f"  {name:<42} {figures} {report.seconds:>8.2f} {base} {ratio}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="store URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--files", type=int, default=0, help="at most this many files per source (0 = all)")
    parser.add_argument("--only", action="append", help="source name(s) to load (default: all)")
    parser.add_argument("--reingest", action="store_true", help="load every file a second time (expect unchanged)")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    args = parser.parse_args(argv)

    tmp = None
    url = args.store
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="fusionhub-bench-")
        os.environ.setdefault("FUSIONHUB_DATA", tmp.name)
        url = f"sqlite:///{Path(tmp.name) / 'fusionhub.db'}"
    store = Store(url)
    store.init()
    print(f"store: {store.safe_url}  data: {args.data}")
    header = f"{'file':<44} " + " ".join(f"{c:>9}" for c in COLUMNS) + f" {'seconds':>8} {'SOURCE.md':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    started = time.perf_counter()
    totals = dict.fromkeys(COLUMNS, 0)
    specs: list[RealSource] = [s for s in REAL_SOURCES if not args.only or s.source in args.only]
    passes = 2 if args.reingest else 1
    for spec in specs:
        spec.register(store)
        files = spec.files(args.data)
        if args.files:
            files = files[: args.files]
        if not files:
            print(f"{spec.source}: no files under {args.data / spec.folder}", file=sys.stderr)
            return 1
        for number in range(passes):
            print(f"{spec.source} (profile {spec.profile}){'' if number == 0 else ', ingested again'}")
            sums = dict.fromkeys(COLUMNS, 0)
            for path in files:
                report = ingest_file(store, path, spec.source)
                print(_line(path.name[:42], report, DOCUMENTED.get(path.name)))
                for c in COLUMNS:
                    sums[c] += getattr(report, c)
                    totals[c] += getattr(report, c)
            if spec.profile == "stlouis_slmpd":
                documented = SLMPD_TOTAL if len(files) == 24 else None
                ratio = f"{sums['read'] / documented:.3f}" if documented else "n/a"
                print(f"  {len(files)} files: read {sums['read']} (SOURCE.md {documented}, ratio {ratio})")
                with store.connect() as conn:
                    by_status = dict(
                        conn.execute(
                            select(t.record.c.status, func.count())
                            .join(t.source, t.source.c.id == t.record.c.source_id)
                            .where(t.source.c.name == spec.source)
                            .group_by(t.record.c.status)
                        ).all()
                    )
                net = _slmpd_net(files)
                print(
                    f"  net crimes (sum of Count) {net}; records active {by_status.get('active', 0)}, "
                    f"cancelled {by_status.get('cancelled', 0)} (see docs/profiles.md for the reconciliation)"
                )
    print("-" * len(header))
    print(f"{'total':<44} " + " ".join(f"{totals[c]:>9}" for c in COLUMNS) + f" {time.perf_counter() - started:>8.2f}")
    store.dispose()
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
