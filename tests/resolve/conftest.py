"""Fixtures for resolution: generated persons with ground truth, a model trained once."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bench.persons import HEADER, PROFILE, Generator
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.ingest.profile import Profile
from fusionhub.resolve.engine import DuckDBEngine
from fusionhub.resolve.features import rows_to_tsv
from fusionhub.resolve.linkfiles import file_rows
from fusionhub.store import Store, utcnow
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t
from tests.factories import source


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def persons() -> list[dict[str, str]]:
    return list(Generator(seed=11).records(600))


@pytest.fixture(scope="session")
def trained_model(persons: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A model trained (unsupervised) once on the generated persons; tests seed stores with it."""
    tmp = tmp_path_factory.mktemp("model")
    csv_path = write_rows(tmp / "persons.csv", persons)
    tsv = tmp / "persons.tsv"
    rows_to_tsv(file_rows(csv_path, Profile.load(PROFILE), "x", []), tsv)
    engine = DuckDBEngine()
    try:
        engine.load(tsv, "persons")
        return engine.train(["persons"])
    finally:
        engine.close()


def seed_model(store: Store, model: dict[str, Any], threshold: float = 0.9) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(rt.resolve_model).values(
                version=1, trained_at=utcnow(), rows=0, seconds=0.0, threshold=threshold, settings=model
            )
        )


def ingest_rows(store: Store, tmp_path: Path, name: str, rows: list[dict[str, str]], **source_kw: Any) -> None:
    if not any(s for s in _sources(store) if s == name):
        source(store, name, source_kw.pop("agency", "PD1"), kind="rms", profile=str(PROFILE), **source_kw)
    path = write_rows(tmp_path / f"{name}-{len(rows)}-{rows[0]['rec_id']}.csv", rows)
    report = ingest_file(store, path, name)
    assert report.rejected == 0, report.quarantine_sample


def _sources(store: Store) -> Iterator[str]:
    with store.connect() as conn:
        yield from (n for (n,) in conn.execute(select(t.source.c.name)))


def canonical(store: Store, source_record_id: str) -> str:
    """The canonical id of the Person of the record with this source record id."""
    r, e = t.record.c, rt.resolve_entity.c
    with store.connect() as conn:
        return str(
            conn.execute(
                select(e.canonical_id)
                .join(t.record, r.id == e.record_id)
                .where(r.source_record_id == source_record_id, e.schema == "Person")
            ).scalar_one()
        )


def person_ref(store: Store, source_record_id: str) -> str:
    r, e = t.record.c, rt.resolve_entity.c
    with store.connect() as conn:
        return str(
            conn.execute(
                select(e.ref)
                .join(t.record, r.id == e.record_id)
                .where(r.source_record_id == source_record_id, e.schema == "Person")
            ).scalar_one()
        )
