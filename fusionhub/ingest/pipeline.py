"""The import pipeline: connector -> profile -> store, in atomic chunks.

Each chunk of rows commits in one transaction together with its quarantined rows and
the batch's progress, so an import killed at any point leaves whole chunks only, and
running it again completes the file: rows already stored come back ``unchanged``.

Reading and mapping a row costs more than storing it, so a large file is read and
mapped in a worker process (``fusionhub.ingest.worker``) while this process writes the
chunk before; both sides run the same ``prepare_chunk``. The worker is at most a chunk
or two ahead (a pipe with no buffer to speak of), so memory stays flat whatever the
file's size, and it dies with the importing process.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from fusionhub.ingest.connectors import ConnectorInfo, SourceRow, get_connector
from fusionhub.ingest.connectors.base import RAW_KEEP
from fusionhub.ingest.errors import RowRejected, UnreadableFile
from fusionhub.ingest.profile import Profile
from fusionhub.ingest.sources import Source, get_source
from fusionhub.model.types.base import inert
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.audit import record_event
from fusionhub.policy.identity import operator_name
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t
from fusionhub.store.followers import notify_followers
from fusionhub.store.writer import SourceDefaults, WriteCounts, prepare_row, write_rows

PREDICATE_REFUSAL = (
    "criminal intelligence is stored only with a criminal predicate; submit it with `fusionhub record submit`"
)
Progress = Callable[[int, int, int], None]  # rows read, bytes read, bytes total
#: Files at least this large are mapped in a worker process (FUSIONHUB_INGEST_PARALLEL_BYTES;
#: 0 always, a negative number never); below it, starting the worker costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@dataclass
class PreparedChunk:
    """A chunk of rows mapped and serialised, ready for the store."""

    rows: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    skipped: int
    read: int
    last_row: int
    position: int = 0
    cancelled: int = 0


def prepare_chunk(
    mapping: Profile,
    source_name: str,
    defaults: SourceDefaults,
    batch_id: int,
    chunk: list[SourceRow],
) -> PreparedChunk:
    """Map and serialise one chunk: no store access, so it can run in a worker process."""
    rows: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    skipped = cancelled = 0
    now = utcnow()
    predicate_classes = set(load_policy().retention.get("predicate_required") or [])
    for row in chunk:
        if row.error:
            rejected.append(_quarantine(batch_id, row, row.error))
            continue
        try:
            draft = mapping.map_row(row.values, source_name)
        except RowRejected as exc:
            rejected.append(_quarantine(batch_id, row, str(exc)))
            continue
        if draft is None:
            skipped += 1
            continue
        if draft.meta.get("record_class", defaults.record_class) in predicate_classes:
            # 28 CFR 23.20(a): no criminal intelligence without its predicate (policy.submission).
            rejected.append(_quarantine(batch_id, row, PREDICATE_REFUSAL))
            continue
        cancelled += draft.cancelled
        rows.append(prepare_row(draft, defaults, batch_id, now))
    last = chunk[-1].number if chunk else 0
    return PreparedChunk(rows, rejected, skipped, len(chunk), last, cancelled=cancelled)


def worker_count() -> int:
    """Mapping processes for a large file (FUSIONHUB_INGEST_WORKERS; default: one per core, at most 4)."""
    value = os.environ.get("FUSIONHUB_INGEST_WORKERS")
    if value not in (None, ""):
        return max(1, int(value))
    return max(1, min(4, os.cpu_count() or 1))


def parallel_min_bytes() -> int:
    value = os.environ.get("FUSIONHUB_INGEST_PARALLEL_BYTES")
    return int(value) if value not in (None, "") else PARALLEL_MIN_BYTES


@dataclass
class IngestReport:
    source: str
    file: str
    profile: str
    batch_id: int | None = None
    read: int = 0
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    cancelled: int = 0  # rows stored as cancelled (record.cancel_when; see profile.py)
    seconds: float = 0.0
    status: str = "running"
    first_seq: int | None = None
    last_seq: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)
    #: Why the file could not be read past row ``read`` (the rows before it are committed).
    unreadable: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
        """The CLI's status: 4 the file became unreadable, 3 rows quarantined, 0 all landed."""
        if self.unreadable:
            return 4
        return 3 if self.rejected else 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def _defaults(source: Source) -> SourceDefaults:
    vocab = load_vocabulary()
    return SourceDefaults(
        source_id=source.id,
        agency_id=source.agency_id,
        record_class=source.record_class,
        tlp=source.default_tlp,
        handling=source.default_handling,
        reliability=source.default_reliability,
        validity=source.default_validity,
        retention_days=int(vocab.record_classes[source.record_class]["retention_days"]),
    )


def ingest_file(
    store: Store,
    path: str | Path,
    source_name: str,
    profile: str | Path | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> IngestReport:
    """Import one file. Raises UnreadableFile (nothing stored) when it cannot be read at all."""
    started = time.perf_counter()
    path = Path(path)
    source = get_source(store, source_name)
    profile_ref = profile or source.profile
    if not profile_ref:
        raise UnreadableFile(f"source {source.name} has no profile; pass --profile FILE")
    mapping = Profile.load(profile_ref)
    info = ConnectorInfo()
    connector = get_connector(mapping.format)
    options = {**mapping.options, "max_field_bytes": store.settings.max_field_bytes}
    rows = connector(path, options, info)  # raises UnreadableFile before anything is written
    rows = iter(rows)
    first_chunk_size = batch_size or store.settings.batch_size
    report = IngestReport(source=source.name, file=str(path), profile=mapping.name)
    defaults = _defaults(source)
    total_bytes = path.stat().st_size
    try:
        first = list(islice(rows, first_chunk_size))
    except UnreadableFile:
        raise
    with store.begin() as conn:
        batch_id = conn.execute(
            insert(t.ingest_batch).values(
                source_id=source.id,
                file_name=path.name,
                file_sha256=None,  # filled in below, while the worker reads
                profile=mapping.name,
                started_at=utcnow(),
                status="running",
                rows_read=0,
                rows_stored=0,
                rows_updated=0,
                rows_unchanged=0,
                rows_rejected=0,
                last_row=0,
                user_name=user,
            )
        ).inserted_primary_key
    assert batch_id is not None
    report.batch_id = int(batch_id[0])
    totals = WriteCounts()
    use_worker = first and 0 <= parallel_min_bytes() <= total_bytes and (os.cpu_count() or 1) > 1
    prepared: Iterator[PreparedChunk]
    worker = None
    if use_worker:
        from fusionhub.ingest.worker import MappingWorkers

        close = getattr(rows, "close", None)
        if close:
            close()  # the worker reads the file from the start itself
        first = []

        def inline_from_start() -> Iterator[PreparedChunk]:
            again = iter(connector(path, options, info))
            return _prepared_inline(
                mapping, source.name, defaults, report.batch_id, _chunks(again, first_chunk_size), info
            )

        worker = MappingWorkers(
            # Numbering repeated ids (record.repeats) needs every row of the file in one
            # mapper; such a profile gets one worker, still in parallel with the writer.
            1 if mapping.stateful else worker_count(),
            path,
            mapping.spec,
            mapping.origin,
            options,
            source.name,
            defaults,
            report.batch_id,
            first_chunk_size,
        )
        prepared = _falling_back(worker, info, inline_from_start, report)
    else:
        chunks = _chain(iter([first] if first else []), _chunks(rows, first_chunk_size))
        prepared = _prepared_inline(mapping, source.name, defaults, report.batch_id, chunks, info)
    try:
        digest = _sha256(path)
        with store.begin() as conn:
            conn.execute(
                update(t.ingest_batch).where(t.ingest_batch.c.id == report.batch_id).values(file_sha256=digest)
            )
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    try:
        for chunk in prepared:
            _store_chunk(store, source, defaults, report, chunk, totals, user)
            notify_followers(store)
            if progress:
                progress(report.read, chunk.position, total_bytes)
    except UnreadableFile as exc:
        # Unreadable after the first chunk: the whole chunks before stay committed (a
        # re-run after the file is repaired completes it); the rest was never read.
        report.status = "failed"
        report.unreadable = f"{exc}; unreadable after row {report.read}, the rows before it are stored"
        report.warnings.append(str(exc))
    except BaseException as exc:
        # Killed or crashed mid-file: the committed chunks stand; the batch says it failed.
        report.status = "failed"
        report.warnings.append(f"import stopped: {type(exc).__name__}: {exc}")
        _finish(store, report)
        raise
    finally:
        if worker is not None:
            worker.stop()
    report.details = info.details
    report.warnings = info.warnings + report.warnings
    report.first_seq, report.last_seq = totals.first_seq, totals.last_seq
    if report.status != "failed":
        report.status = "partial" if report.rejected else "done"
    report.seconds = round(time.perf_counter() - started, 3)
    _finish(store, report)
    return report


def _finish(store: Store, report: IngestReport) -> None:
    with store.begin() as conn:
        conn.execute(
            update(t.ingest_batch)
            .where(t.ingest_batch.c.id == report.batch_id)
            .values(finished_at=utcnow(), status=report.status, message="; ".join(report.warnings)[:4000] or None)
        )


def _chain(*iterators: Iterator[list[SourceRow]]) -> Iterator[list[SourceRow]]:
    for iterator in iterators:
        yield from iterator


def _falling_back(
    worker: Any, info: ConnectorInfo, inline: Callable[[], Iterator[PreparedChunk]], report: IngestReport
) -> Iterator[PreparedChunk]:
    """The workers' chunks; if they cannot start at all, map in this process instead.

    Workers are spawned, so they import the program's main module again; a script that
    calls ``ingest_file`` without an ``if __name__ == "__main__"`` guard breaks them.
    Nothing has been written when that shows, so mapping here from the start is safe.
    """
    from fusionhub.ingest.worker import WorkerFailed

    chunks = worker.chunks(info)
    try:
        first = next(chunks)
    except StopIteration:
        return
    except WorkerFailed as exc:
        worker.stop()
        report.warnings.append(f"mapping workers unavailable, mapped in the importing process: {exc}")
        yield from inline()
        return
    yield first
    yield from chunks


def _prepared_inline(
    mapping: Profile,
    source_name: str,
    defaults: SourceDefaults,
    batch_id: int | None,
    chunks: Iterator[list[SourceRow]],
    info: ConnectorInfo,
) -> Iterator[PreparedChunk]:
    for chunk in chunks:
        result = prepare_chunk(mapping, source_name, defaults, batch_id or 0, chunk)
        result.position = info.position
        yield result


def _store_chunk(
    store: Store,
    source: Source,
    defaults: SourceDefaults,
    report: IngestReport,
    chunk: PreparedChunk,
    totals: WriteCounts,
    user: str | None = None,
) -> None:
    now = utcnow()
    rejected = chunk.rejected
    with store.begin() as conn:
        counts = write_rows(store, conn, defaults, chunk.rows, now)
        if rejected:
            conn.execute(insert(t.quarantine), rejected)
        report.read += chunk.read
        report.stored += counts.stored
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        report.rejected += len(rejected)
        report.skipped += chunk.skipped
        report.cancelled += chunk.cancelled
        conn.execute(
            update(t.ingest_batch)
            .where(t.ingest_batch.c.id == report.batch_id)
            .values(
                rows_read=report.read,
                rows_stored=report.stored,
                rows_updated=report.updated,
                rows_unchanged=report.unchanged,
                rows_rejected=report.rejected,
                last_row=chunk.last_row,
            )
        )
        # The import's audit event commits with the rows it records (policy.audit).
        record_event(
            conn,
            user or operator_name(),
            "import",
            f"batch:{report.batch_id}",
            {
                "source": source.name,
                "rows": chunk.read,
                "stored": counts.stored,
                "updated": counts.updated,
                "rejected": len(rejected),
                "first_seq": counts.first_seq,
                "last_seq": counts.last_seq,
            },
        )
    totals.add(counts)
    for item in rejected[: max(0, 20 - len(report.quarantine_sample))]:
        report.quarantine_sample.append({"row": item["row_number"], "reason": item["reason"]})


def _quarantine(batch_id: int | None, row: SourceRow, reason: str) -> dict[str, Any]:
    raw = row.raw
    if raw is None and row.values:
        raw = json.dumps(row.values, ensure_ascii=False)[:RAW_KEEP]
    return {
        "batch_id": batch_id,
        "row_number": row.number,
        "source_record_id": None,
        "reason": (f"line {row.line}: " if row.line else "") + reason,
        "raw": inert(raw or "")[:RAW_KEEP],
    }
