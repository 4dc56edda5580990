"""The import pipeline: connector -> profile -> store, in atomic chunks.

Each chunk of rows commits in one transaction together with its quarantined rows and
the batch's progress, so an import killed at any point leaves whole chunks only, and
running it again completes the file: rows already stored come back ``unchanged``.
"""

from __future__ import annotations

import hashlib
import json
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
from fusionhub.ingest.profile import Profile, RecordDraft
from fusionhub.ingest.sources import Source, get_source
from fusionhub.model.types.base import inert
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.audit import record_event
from fusionhub.policy.identity import operator_name
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t
from fusionhub.store.followers import notify_followers
from fusionhub.store.writer import SourceDefaults, WriteCounts, write_chunk

PREDICATE_REFUSAL = (
    "criminal intelligence is stored only with a criminal predicate; submit it with `fusionhub record submit`"
)
Progress = Callable[[int, int, int], None]  # rows read, bytes read, bytes total


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
    seconds: float = 0.0
    status: str = "running"
    first_seq: int | None = None
    last_seq: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exit_code(self) -> int:
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
                file_sha256=_sha256(path),
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
    chunks = _chunks(rows, first_chunk_size)
    all_chunks: Iterator[list[SourceRow]] = (c for c in ([first] if first else []))
    totals = WriteCounts()
    try:
        for chunk in _chain(all_chunks, chunks):
            _ingest_chunk(store, source, mapping, defaults, report, chunk, totals, user)
            notify_followers(store)
            if progress:
                progress(report.read, info.position, total_bytes)
    except UnreadableFile as exc:
        report.status = "failed"
        report.warnings.append(str(exc))
    except BaseException as exc:
        # Killed or crashed mid-file: the committed chunks stand; the batch says it failed.
        report.status = "failed"
        report.warnings.append(f"import stopped: {type(exc).__name__}: {exc}")
        _finish(store, report)
        raise
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


def _ingest_chunk(
    store: Store,
    source: Source,
    mapping: Profile,
    defaults: SourceDefaults,
    report: IngestReport,
    chunk: list[SourceRow],
    totals: WriteCounts,
    user: str | None = None,
) -> None:
    drafts: list[RecordDraft] = []
    rejected: list[dict[str, Any]] = []
    predicate_classes = set(load_policy().retention.get("predicate_required") or [])
    skipped = 0
    for row in chunk:
        if row.error:
            rejected.append(_quarantine(report, row, row.error, None))
            continue
        try:
            draft = mapping.map_row(row.values, source.name)
        except RowRejected as exc:
            rejected.append(_quarantine(report, row, str(exc), None))
            continue
        if draft is None:
            skipped += 1
            continue
        if draft.meta.get("record_class", source.record_class) in predicate_classes:
            # 28 CFR 23.20(a): no criminal intelligence without its predicate (policy.submission).
            rejected.append(_quarantine(report, row, PREDICATE_REFUSAL, None))
            continue
        drafts.append(draft)
    now = utcnow()
    with store.begin() as conn:
        counts = write_chunk(store, conn, defaults, report.batch_id or 0, list(drafts), now)
        if rejected:
            conn.execute(insert(t.quarantine), rejected)
        report.read += len(chunk)
        report.stored += counts.stored
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        report.rejected += len(rejected)
        report.skipped += skipped
        conn.execute(
            update(t.ingest_batch)
            .where(t.ingest_batch.c.id == report.batch_id)
            .values(
                rows_read=report.read,
                rows_stored=report.stored,
                rows_updated=report.updated,
                rows_unchanged=report.unchanged,
                rows_rejected=report.rejected,
                last_row=chunk[-1].number,
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
                "rows": len(chunk),
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


def _quarantine(report: IngestReport, row: SourceRow, reason: str, _draft: Any) -> dict[str, Any]:
    raw = row.raw
    if raw is None and row.values:
        raw = json.dumps(row.values, ensure_ascii=False)[:RAW_KEEP]
    return {
        "batch_id": report.batch_id,
        "row_number": row.number,
        "source_record_id": None,
        "reason": (f"line {row.line}: " if row.line else "") + reason,
        "raw": inert(raw or "")[:RAW_KEEP],
    }
