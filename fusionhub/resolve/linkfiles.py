"""``fusionhub link``: link two person files or deduplicate one, mapped by a profile.

This is the evaluation interface for arbitrary files, and it runs the product's own
code path: the ingest profile maps rows to records, ``features`` turns their Person
entities into person rows, ``engine`` trains the same Splink model unsupervised and
scores pairs, ``clusters`` joins them. Nothing is stored.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionhub.ingest.connectors import ConnectorInfo, get_connector
from fusionhub.ingest.errors import RowRejected, UnreadableFile
from fusionhub.ingest.profile import Profile
from fusionhub.resolve import model as m
from fusionhub.resolve.clusters import cluster
from fusionhub.resolve.engine import DuckDBEngine, Engine
from fusionhub.resolve.features import PersonRow, person_rows, rows_to_tsv


@dataclass
class LinkResult:
    mode: str  # link or dedupe
    threshold: float
    records: dict[str, list[str]]  # side -> record ids
    pairs: list[tuple[str, str, float]]  # left record id, right record id, probability
    clusters: dict[str, str] = field(default_factory=dict)  # record id -> cluster id
    rejected: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)


def file_rows(path: Path, profile: Profile, side: str, rejected: list[str]) -> Iterator[PersonRow]:
    connector = get_connector(profile.format)
    for row in connector(path, profile.options, ConnectorInfo()):
        if row.error:
            rejected.append(f"{path.name} row {row.number}: {row.error}")
            continue
        try:
            draft = profile.map_row(row.values, side)
        except RowRejected as exc:
            rejected.append(f"{path.name} row {row.number}: {exc}")
            continue
        if draft is None:
            continue
        yield from person_rows(draft.source_record_id, draft.payload())


_WORKER_PROFILE: Profile | None = None


def _init_worker(origin: str) -> None:
    global _WORKER_PROFILE
    _WORKER_PROFILE = Profile.load(origin)


def _map_chunk(args: tuple[str, list[tuple[int, dict[str, Any]]]]) -> tuple[list[PersonRow], list[str]]:
    side, rows = args
    assert _WORKER_PROFILE is not None
    out: list[PersonRow] = []
    rejected: list[str] = []
    for number, values in rows:
        try:
            draft = _WORKER_PROFILE.map_row(values, side)
        except RowRejected as exc:
            rejected.append(f"row {number}: {exc}")
            continue
        if draft is not None:
            out.extend(person_rows(draft.source_record_id, draft.payload()))
    return out, rejected


def file_rows_parallel(
    path: Path, profile: Profile, side: str, rejected: list[str], workers: int, chunk: int = 20_000
) -> Iterator[PersonRow]:
    """``file_rows`` with the mapping spread over processes (large files on several cores)."""
    import multiprocessing

    def chunks() -> Iterator[tuple[str, list[tuple[int, dict[str, Any]]]]]:
        batch: list[tuple[int, dict[str, Any]]] = []
        for row in get_connector(profile.format)(path, profile.options, ConnectorInfo()):
            if row.error:
                rejected.append(f"{path.name} row {row.number}: {row.error}")
                continue
            batch.append((row.number, row.values))
            if len(batch) >= chunk:
                yield side, batch
                batch = []
        if batch:
            yield side, batch

    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(profile.origin,)) as pool:
        for rows, problems in pool.imap(_map_chunk, chunks()):
            rejected.extend(f"{path.name} {p}" for p in problems)
            yield from rows


def record_of(unique_id: str) -> str:
    return unique_id.rsplit(":", 1)[0]


def link(
    left: Path,
    right: Path | None,
    profile: Profile,
    threshold: float = m.DEFAULT_THRESHOLD,
    engine: Engine | None = None,
    workers: int = 1,
) -> LinkResult:
    owned = engine is None
    engine = engine or DuckDBEngine()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    rejected: list[str] = []
    sides = [("left", left)] + ([("right", right)] if right is not None else [])
    records: dict[str, list[str]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fusionhub-link-") as tmp:
            tables = []
            for side, path in sides:
                tsv = Path(tmp) / f"{side}.tsv"
                ids: list[str] = []

                def tracked(rows: Iterator[PersonRow], into: list[str] = ids) -> Iterator[PersonRow]:
                    for row in rows:
                        into.append(record_of(str(row.values["unique_id"])))
                        yield row

                if not path.exists():
                    raise UnreadableFile(f"{path}: no such file")
                mapped = (
                    file_rows_parallel(path, profile, side, rejected, workers)
                    if workers > 1
                    else file_rows(path, profile, side, rejected)
                )
                rows_to_tsv(tracked(mapped), tsv)
                records[side] = list(dict.fromkeys(ids))
                engine.load(tsv, f"persons_{side}")
                tables.append(f"persons_{side}")
            timings["features"] = time.perf_counter() - started
            link_type: m.LinkType = "link_only" if right is not None else "dedupe_only"
            mark = time.perf_counter()
            trained = engine.train(tables, link_type)
            timings["training"] = time.perf_counter() - mark
            mark = time.perf_counter()
            best: dict[tuple[str, str], float] = {}
            for pair in engine.predict(tables, trained, threshold):
                a, b = record_of(pair.left), record_of(pair.right)
                if a == b:
                    continue
                key = (a, b)
                best[key] = max(best.get(key, 0.0), pair.probability)
            timings["prediction"] = time.perf_counter() - mark
    finally:
        if owned:
            engine.close()
    mark = time.perf_counter()
    pairs = [(a, b, p) for (a, b), p in best.items()]
    everyone = [r for side in records.values() for r in side]
    clusters = cluster(everyone, pairs)
    timings["clustering"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return LinkResult(
        mode="link" if right is not None else "dedupe",
        threshold=threshold,
        records=records,
        pairs=pairs,
        clusters=clusters,
        rejected=len(rejected),
        seconds={k: round(v, 2) for k, v in timings.items()},
        model=trained,
    )


def write_pairs(result: LinkResult, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left_id", "right_id", "match_probability"])
        for a, b, p in sorted(result.pairs):
            writer.writerow([a, b, f"{p:.6f}"])


def write_clusters(result: LinkResult, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "cluster_id"])
        for record_id, cluster_id in sorted(result.clusters.items()):
            writer.writerow([record_id, cluster_id])
