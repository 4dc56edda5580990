"""Helpers for the tests that load the real partner exports (../shared/data)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fusionhub.ingest.pipeline import IngestReport, ingest_file
from fusionhub.ingest.real_sources import real_source
from fusionhub.policy.identity import UnknownUser, actor_for
from fusionhub.policy.reader import RecordReader, RecordView
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests import factories
from tests.conftest import DATA

COUNTS = ("read", "stored", "updated", "unchanged", "rejected", "cancelled")


def counts(report: IngestReport) -> tuple[int, ...]:
    return tuple(getattr(report, c) for c in COUNTS)


def load(store: Store, source: str, files: list[Path] | None = None) -> list[IngestReport]:
    """Register the real source (agency, profile) and ingest its files in their order."""
    spec = real_source(source)
    spec.register(store)
    return [ingest_file(store, path, source) for path in (files or spec.files(DATA))]


def files(source: str) -> list[Path]:
    return real_source(source).files(DATA)


def record(store: Store, source: str, source_record_id: str) -> RecordView:
    """Read one record through the policy layer, as an analyst of the owning agency."""
    spec = real_source(source)
    with store.connect() as conn:
        rid = conn.execute(
            select(t.record.c.id)
            .join(t.source, t.source.c.id == t.record.c.source_id)
            .where(t.source.c.name == source, t.record.c.source_record_id == source_record_id)
        ).scalar_one()
    reader_name = f"analyst-{spec.agency.lower()}"
    try:
        actor = actor_for(store, reader_name)
    except UnknownUser:
        actor = factories.user(store, reader_name, spec.agency, kind=spec.agency_kind)
    return RecordReader(store, actor, purpose="case 24-001").get(rid)


def entity(payload: dict[str, Any], key: str) -> dict[str, list[Any]] | None:
    """The properties of the entity mapped under ``key`` (incident, place, ...)."""
    for item in payload["entities"]:
        if item["key"] == key:
            return dict(item["properties"])
    return None


def value(props: dict[str, list[Any]] | None, name: str) -> Any:
    """The first stored value of a property (without the source's original text)."""
    if not props or name not in props:
        return None
    first = props[name][0]
    return first[0] if isinstance(first, list) else first


def original(props: dict[str, list[Any]] | None, name: str) -> Any:
    if not props or name not in props:
        return None
    first = props[name][0]
    return first[1] if isinstance(first, list) else first


def payloads(store: Store, source: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(source record id, status, payload) of every record of a source: bulk checks only."""
    with store.connect() as conn:
        rows = conn.execute(
            select(t.record.c.source_record_id, t.record.c.status, t.record.c.payload)
            .join(t.source, t.source.c.id == t.record.c.source_id)
            .where(t.source.c.name == source)
        ).all()
    return [(r[0], r[1], r[2] if isinstance(r[2], dict) else json.loads(r[2])) for r in rows]


def statuses(store: Store, source: str) -> dict[str, int]:
    with store.connect() as conn:
        rows = conn.execute(
            select(t.record.c.status, func.count())
            .join(t.source, t.source.c.id == t.record.c.source_id)
            .where(t.source.c.name == source)
            .group_by(t.record.c.status)
        ).all()
    return {str(status): int(n) for status, n in rows}


# -- St. Louis neighbourhood polygons (CRS84 lon/lat), to check the state-plane conversion --
@lru_cache(maxsize=1)
def stl_neighborhoods() -> dict[str, list[Any]]:
    path = DATA / "incidents/stlouis_slmpd/boundaries/stl_neighborhoods.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {str(f["properties"]["NHD_NAME"]): f["geometry"]["coordinates"] for f in features}


def _in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def in_neighborhood(lat: float, lon: float, name: str) -> bool:
    """Whether the point lies in the named St. Louis neighbourhood (ray casting, holes out)."""
    polygons = stl_neighborhoods()[name]
    return any(
        _in_ring(lon, lat, polygon[0]) and not any(_in_ring(lon, lat, hole) for hole in polygon[1:])
        for polygon in polygons
    )
