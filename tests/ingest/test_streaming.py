"""Memory stays flat: a file several times bigger than the allowed growth reads through.

The connectors run in a fresh process (bench/connector_memory.py), whose peak resident
memory above its start-up must stay under a bound much smaller than the file: a reader
that loaded the whole file would need several times the file's size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.connector_memory import make_json, make_xml, measure

SIZE = 24 * 1024 * 1024
BOUND_MB = 16


@pytest.mark.parametrize("layout", ["json array", "ndjson", "xml"])
def test_peak_memory_does_not_grow_with_the_file(layout: str, tmp_path: Path) -> None:
    if layout == "xml":
        path = tmp_path / "big.xml"
        made = make_xml(path, SIZE)
        fmt, options = "xml", {"namespaces": {"j": "http://example.org/j"}, "record_tag": "j:Case"}
    else:
        path = tmp_path / ("big.ndjson" if layout == "ndjson" else "big.json")
        made = make_json(path, SIZE, layout == "ndjson")
        fmt, options = "json", {}
    rows, errors, _seconds, base, peak = measure(fmt, path, options)
    assert (rows, errors) == (made, 0)
    assert (peak - base) / 1024 < BOUND_MB, f"{layout}: peak grew by {(peak - base) / 1024:.1f} MB"
