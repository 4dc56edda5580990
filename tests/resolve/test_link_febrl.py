"""``fusionhub link`` on the FEBRL benchmark files: quality at the default threshold.

These are quality assertions, not timings. The rec_id encodes the answer key
(rec-<ID>-...); the profile never maps it to a feature, so the model never sees it.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from fusionhub.cli import app

ENTITY = re.compile(r"rec-(\d+)-")


def _entity(record_id: str) -> str:
    match = ENTITY.match(record_id)
    assert match, record_id
    return match.group(1)


def _ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [row["rec_id"] for row in csv.DictReader(handle, skipinitialspace=True)]


def _f1(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> float:
    hits = len(predicted & truth)
    return 2 * hits / (len(predicted) + len(truth))


def _pairs(path: Path) -> set[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return {(row["left_id"], row["right_id"]) for row in csv.DictReader(handle)}


def _cluster_pairs(path: Path) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            groups.setdefault(row["cluster_id"], []).append(row["record_id"])
    return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}  # type: ignore[misc]


def test_febrl4_link_f1(data_dir: Path, tmp_path: Path) -> None:
    left, right = data_dir / "febrl" / "dataset4a.csv", data_dir / "febrl" / "dataset4b.csv"
    out = tmp_path / "pairs.csv"
    result = CliRunner().invoke(app, ["link", str(left), str(right), "--profile", "febrl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["records"] == {"left": 5000, "right": 5000}
    right_ids = _ids(right)
    truth = {(a, b) for a in _ids(left) for b in right_ids if _entity(a) == _entity(b)}
    assert len(truth) == 5000
    predicted = _pairs(out)
    assert _f1(predicted, truth) >= 0.998


def test_febrl3_dedupe_f1(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "febrl" / "dataset3.csv"
    out, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    result = CliRunner().invoke(
        app, ["link", str(path), "--profile", "febrl", "--out", str(out), "--clusters", str(clusters)]
    )
    assert result.exit_code == 0, result.output
    groups: dict[str, list[str]] = {}
    for record_id in _ids(path):
        groups.setdefault(_entity(record_id), []).append(record_id)
    truth = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    predicted = {tuple(sorted(p)) for p in _pairs(out)}
    assert _f1(predicted, truth) >= 0.998  # type: ignore[arg-type]
    assert _f1(_cluster_pairs(clusters), truth) >= 0.998  # type: ignore[arg-type]
