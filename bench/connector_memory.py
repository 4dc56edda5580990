"""Memory and speed of the streamed connectors (JSON array, NDJSON, XML, STIX) on a big file.

The issue's baseline: "memory stays flat for a multi-gigabyte file", i.e. peak memory
must not grow with the file. For each format this writes a file of ``--mb`` megabytes,
reads it through the connector in a fresh process (rows parsed and flattened, nothing
stored: the store's own cost is the pipeline benchmark's business) and prints the
peak resident memory above the interpreter's start-up, the file size and their ratio.
A ratio far below 1 (and the same for a 10x bigger file) is flat memory.

    .venv/bin/python bench/connector_memory.py --mb 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RECORD = {
    "case": {"id": "", "when": "2024-03-01T10:00:00", "note": "x" * 200},
    "codes": ["13A", "290"],
    "people": [{"pid": "a", "name": {"full": "SMITH, JOHN"}, "role": "suspect"}],
}


def make_json(path: Path, target: int, ndjson: bool) -> int:
    n = 0
    with path.open("w") as handle:
        if not ndjson:
            handle.write("[")
        while handle.tell() < target:
            RECORD["case"]["id"] = f"C{n}"  # type: ignore[index]
            text = json.dumps(RECORD)
            handle.write(text + "\n" if ndjson else ("," if n else "") + text + "\n")
            n += 1
        if not ndjson:
            handle.write("]")
    return n


def make_xml(path: Path, target: int) -> int:
    n = 0
    with path.open("w") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<j:Batch xmlns:j="http://example.org/j">\n')
        while handle.tell() < target:
            handle.write(f"<j:Case><j:Id>C{n}</j:Id><j:When>2024-03-01</j:When><j:Note>{'x' * 200}</j:Note></j:Case>\n")
            n += 1
        handle.write("</j:Batch>\n")
    return n


def make_stix(path: Path, target: int) -> int:
    n = 0
    with path.open("w") as handle:
        handle.write('{"type": "bundle", "id": "bundle--0b3c6f32-6d8c-4a38-a1a8-8b1d5e2a9f11", "objects": [\n')
        while handle.tell() < target:
            obj = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
                "created": "2024-01-01T00:00:00.000Z",
                "modified": "2024-01-01T00:00:00.000Z",
                "pattern": f"[ipv4-addr:value = '10.0.{n % 256}.{n // 256 % 256}']",
                "pattern_type": "stix",
                "valid_from": "2024-01-01T00:00:00Z",
            }
            handle.write(("," if n else "") + json.dumps(obj) + "\n")
            n += 1
        handle.write("]}")
    return n


CHILD = """
import resource, sys, time
from pathlib import Path
from fusionhub.ingest.connectors import ConnectorInfo, get_connector
fmt, path, options = sys.argv[1], Path(sys.argv[2]), eval(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
rows = errors = 0
for row in get_connector(fmt)(path, options, ConnectorInfo()):
    rows += 1
    errors += bool(row.error)
print(rows, errors, time.perf_counter() - start, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(fmt: str, path: Path, options: dict[str, object]) -> tuple[int, int, float, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, fmt, str(path), repr(options)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="size of each generated file in MB (default 200)")
    parser.add_argument(
        "--stix-mb", type=int, default=None, help="size of the STIX bundle (default mb/10: stix2 validation is slow)"
    )
    args = parser.parse_args()
    target = args.mb * 1024 * 1024
    stix_target = (args.stix_mb if args.stix_mb is not None else max(1, args.mb // 10)) * 1024 * 1024
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cases = [
            ("json array", "json", root / "a.json", lambda p: make_json(p, target, False), {}),
            ("ndjson", "json", root / "a.ndjson", lambda p: make_json(p, target, True), {}),
            (
                "xml",
                "xml",
                root / "a.xml",
                lambda p: make_xml(p, target),
                {"namespaces": {"j": "http://example.org/j"}, "record_tag": "j:Case"},
            ),
            ("stix bundle", "stix", root / "a.stix.json", lambda p: make_stix(p, stix_target), {}),
        ]
        print(f"{'format':<12} {'file MB':>8} {'rows':>9} {'rows/s':>9} {'peak MB':>8} {'ratio':>7}")
        print("baseline (issue): peak memory flat, independent of file size; ratio = extra peak / file size")
        for label, fmt, path, make, options in cases:
            made = make(path)
            size = path.stat().st_size
            rows, errors, seconds, base, peak = measure(fmt, path, options)
            assert rows == made and errors == 0, (label, rows, made, errors)
            extra = (peak - base) * 1024  # ru_maxrss is in KiB on Linux
            print(
                f"{label:<12} {size / 2**20:>8.0f} {rows:>9} {rows / seconds:>9.0f} {extra / 2**20:>8.1f} "
                f"{extra / size:>7.3f}"
            )
            path.unlink()


if __name__ == "__main__":
    main()
