"""The scale path: the same trained model on Splink's Spark backend gives the same clusters.

Spark runs in local mode (2 cores, 4 shuffle partitions) on the distribution's Java;
the session is stopped at the end. Kept small so it stays in the default suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.persons import PROFILE, Generator
from fusionhub.ingest.profile import Profile
from fusionhub.resolve.clusters import cluster
from fusionhub.resolve.engine import DuckDBEngine, SparkEngine, local_spark
from fusionhub.resolve.features import rows_to_tsv
from fusionhub.resolve.linkfiles import file_rows
from tests.resolve.conftest import write_rows


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.fail("no Java runtime: the Spark scale path needs one (scripts/setup.sh installs it)")
    session = local_spark(cores=2, shuffle_partitions=4, app="fusionhub-test")
    yield session
    session.stop()


def _partition(pairs: list[Any], ids: list[str]) -> set[frozenset[str]]:
    labels = cluster(ids, [(p.left, p.right, p.probability) for p in pairs])
    groups: dict[str, set[str]] = {}
    for item, label in labels.items():
        groups.setdefault(label, set()).add(item)
    return {frozenset(g) for g in groups.values()}


def test_spark_backend_gives_the_duckdb_clusters(spark: Any, tmp_path: Path) -> None:
    csv_path = write_rows(tmp_path / "sample.csv", list(Generator(seed=3).records(500)))
    tsv = tmp_path / "sample.tsv"
    rows_to_tsv(file_rows(csv_path, Profile.load(PROFILE), "x", []), tsv)
    ids = [line.split("\t", 1)[0] for line in tsv.read_text(encoding="utf-8").splitlines()[1:]]
    duck = DuckDBEngine()
    try:
        duck.load(tsv, "persons")
        model = duck.train(["persons"])
        on_duckdb = list(duck.predict(["persons"], model, 0.9))
    finally:
        duck.close()
    engine = SparkEngine(spark)
    engine.load(tsv, "persons")
    on_spark = list(engine.predict(["persons"], model, 0.9))
    assert on_duckdb, "the sample has duplicates; the model must find some"
    assert {(p.left, p.right) for p in on_spark} == {(p.left, p.right) for p in on_duckdb}
    probabilities = {(p.left, p.right): p.probability for p in on_duckdb}
    assert all(abs(p.probability - probabilities[(p.left, p.right)]) < 1e-9 for p in on_spark)
    assert _partition(on_spark, ids) == _partition(on_duckdb, ids)
