"""Writing records: insert, new version on change, nothing on no change.

Called by ingest with drafts already mapped and validated; one call is one chunk inside
the caller's transaction, so a chunk lands whole or not at all.

Preparing a row (``prepare_row``: serialising the payload, hashing it) is separate from
writing it (``write_rows``), so an import can prepare rows in a worker process while
the store writes the previous chunk. The payload is serialised once, as canonical JSON
(sorted keys), and that same text is both hashed and stored. New rows go in through
the engine's bulk path: one ``executemany`` of a prepared INSERT on SQLite, ``COPY`` on
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, insert, select, update

from fusionhub.store import tables as t
from fusionhub.store.store import Store

LOOKUP_SLICE = 500


class Draft(Protocol):
    source_record_id: str
    meta: dict[str, Any]
    occurred_at: str | None
    cancelled: bool

    def payload(self) -> dict[str, Any]: ...


@dataclass
class SourceDefaults:
    source_id: int
    agency_id: int
    record_class: str
    tlp: str
    handling: list[str]
    reliability: str
    validity: str
    retention_days: int


@dataclass
class WriteCounts:
    stored: int = 0
    updated: int = 0
    unchanged: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    def add(self, other: WriteCounts) -> None:
        self.stored += other.stored
        self.updated += other.updated
        self.unchanged += other.unchanged
        if other.first_seq is not None:
            self.first_seq = other.first_seq if self.first_seq is None else min(self.first_seq, other.first_seq)
            self.last_seq = other.last_seq if self.last_seq is None else max(self.last_seq or 0, other.last_seq or 0)


def _canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the text that is hashed and stored.

    orjson writes that text about ten times faster than ``json``; where the two could
    differ (a float's spelling, NaN, a number beyond 64 bits, a non-text key, a lone
    surrogate) the standard library writes it, so a hash never changes with the library.
    """
    if not _has_float(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            pass  # orjson refuses it: big integer, non-text key, lone surrogate
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _has_float(value: Any) -> bool:
    kind = value.__class__
    if kind is str or value is None:
        return False
    if kind is float:
        return True
    if kind is dict:
        return any(_has_float(v) for v in value.values())
    if kind is list or kind is tuple:
        return any(_has_float(v) for v in value)
    return isinstance(value, float)  # a float subclass; other values orjson judges


def _payload_text(draft: Draft) -> str:
    body = draft.payload()
    # Mapped values are text (every property type cleans to text); only the values kept
    # unmapped from structured rows can be numbers, so only they need looking at.
    unmapped = body.get("unmapped")
    if unmapped is not None and _has_float(unmapped):
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return _canonical(body)


def content_hash(row: dict[str, Any]) -> str:
    payload = row["payload_text"] if "payload_text" in row else _canonical(row["payload"])
    grading = (row["tlp"], row["handling"], row["reliability"], row["validity"], row["status"], row["record_class"])
    if all(v.__class__ is str or v is None for v in grading):
        middle = _grading_text(grading)
    else:  # kept apart: 1, 1.0 and True are one key to a cache but three texts
        middle = _canonical(list(grading))[1:-1]
    # The same text as _canonical([payload, tlp, ..., record_class, occurred_at]), without
    # serialising the payload twice or the grading, which the rows of a source share.
    return hashlib.sha1(f"[{payload},{middle},{_canonical(row['occurred_at'])}]".encode()).hexdigest()


@lru_cache(maxsize=256)
def _grading_text(grading: tuple[str | None, ...]) -> str:
    return _canonical(list(grading))[1:-1]


def prepare_row(draft: Draft, defaults: SourceDefaults, batch_id: int, now: datetime) -> dict[str, Any]:
    """The record row of a draft, with its payload as canonical JSON text (``payload_text``)."""
    meta = draft.meta
    record_class = meta.get("record_class", defaults.record_class)
    row: dict[str, Any] = {
        "source_id": defaults.source_id,
        "source_record_id": draft.source_record_id,
        "agency_id": defaults.agency_id,
        "batch_id": batch_id,
        "record_class": record_class,
        "tlp": meta.get("tlp", defaults.tlp),
        "handling": ",".join(meta.get("handling", defaults.handling)),
        "reliability": meta.get("reliability", defaults.reliability),
        "validity": meta.get("validity", defaults.validity),
        "received_at": now,
        "occurred_at": draft.occurred_at,
        "review_due": _review_due(now, defaults.retention_days),
        "status": "cancelled" if draft.cancelled else "active",
        "payload_text": _payload_text(draft),
        "updated_at": now,
        # Not a column: tells the writer the source's cancellations are permanent.
        "cancel_final": bool(getattr(draft, "cancel_final", False)),
    }
    row["content_hash"] = content_hash(row)
    return row


_row = prepare_row
_REVIEW_DUE: list[Any] = [None, 0, None]  # now, days, review date: the last one worked out


def _review_due(now: datetime, days: int) -> datetime:
    """``now + days``; the rows of one chunk share ``now``, so they share this object too."""
    last = _REVIEW_DUE
    if last[0] is not now or last[1] != days:
        last[:] = [now, days, now + timedelta(days=days)]
    due: datetime = last[2]
    return due


def write_chunk(
    store: Store,
    connection: Connection,
    defaults: SourceDefaults,
    batch_id: int,
    drafts: list[Draft],
    now: datetime,
) -> WriteCounts:
    """Store a chunk of drafts. A record id repeated inside the chunk is applied in order."""
    return write_rows(store, connection, defaults, [prepare_row(d, defaults, batch_id, now) for d in drafts], now)


def write_rows(
    store: Store, connection: Connection, defaults: SourceDefaults, rows: list[dict[str, Any]], now: datetime
) -> WriteCounts:
    """Store prepared rows (``prepare_row``). A record id repeated among them is applied in order."""
    counts = WriteCounts()
    pending: dict[str, dict[str, Any]] = {}
    final: set[str] = set()  # ids whose cancellation is permanent (Draft.cancel_final)
    for row in rows:
        key = row["source_record_id"]
        if key in pending:
            counts.add(_write(store, connection, defaults, pending, now, final))
            pending, final = {}, set()
        pending[key] = row
        if row.get("cancel_final"):
            final.add(key)
    if pending:
        counts.add(_write(store, connection, defaults, pending, now, final))
    return counts


def _write(
    store: Store,
    connection: Connection,
    defaults: SourceDefaults,
    rows: dict[str, dict[str, Any]],
    now: datetime,
    final: set[str] | None = None,
) -> WriteCounts:
    r = t.record.c
    existing: dict[str, Any] = {}
    keys = list(rows)
    for start in range(0, len(keys), LOOKUP_SLICE):
        part = keys[start : start + LOOKUP_SLICE]
        result = connection.execute(
            select(r.id, r.source_record_id, r.content_hash, r.version, r.status, r.review_due).where(
                r.source_id == defaults.source_id, r.source_record_id.in_(part)
            )
        )
        for found in result:
            existing[found.source_record_id] = found
    new_rows: list[dict[str, Any]] = []
    changed: list[tuple[Any, dict[str, Any]]] = []
    counts = WriteCounts()
    for key, row in rows.items():
        old = existing.get(key)
        if old is None:
            new_rows.append(row)
        elif old.status == "purged":
            # A purged record stays purged: re-sending it does not bring it back.
            counts.unchanged += 1
        elif old.content_hash == row["content_hash"]:
            counts.unchanged += 1
        elif old.status == "cancelled" and row["status"] == "active" and final and key in final:
            # The source's reversals are permanent: the row it reversed, sent again (the
            # same file re-ingested, or a reversal sorted first), does not revive it.
            counts.unchanged += 1
        else:
            changed.append((old, row))
    total = len(new_rows) + len(changed)
    if not total:
        return counts
    seq = store.allocate_seq(connection, total)
    counts.first_seq, counts.last_seq = seq, seq + total - 1
    for row in new_rows:
        row["seq"] = seq
        row["version"] = 1
        seq += 1
    if new_rows:
        _insert_new(store, connection, new_rows)
        counts.stored = len(new_rows)
    if changed:
        ids = [old.id for old, _ in changed]
        _archive_versions(connection, ids, now)
        updates = []
        for old, row in changed:
            row = dict(row)
            row["payload"] = json.loads(row.pop("payload_text"))
            row.pop("source_id")
            row.pop("source_record_id")
            row.pop("cancel_final", None)
            # The review date runs from first entry; an update does not extend it.
            row.pop("review_due")
            row["seq"] = seq
            row["version"] = old.version + 1
            row["b_id"] = old.id
            seq += 1
            updates.append(row)
        stmt = update(t.record).where(r.id == _bind("b_id"))
        connection.execute(stmt, updates)
        counts.updated = len(changed)
    return counts


INSERT_COLUMNS = (
    "source_id",
    "source_record_id",
    "agency_id",
    "batch_id",
    "record_class",
    "tlp",
    "handling",
    "reliability",
    "validity",
    "received_at",
    "occurred_at",
    "review_due",
    "status",
    "version",
    "content_hash",
    "payload",
    "seq",
    "updated_at",
)


def _insert_new(store: Store, connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Bulk-insert new record rows, bypassing per-row statement compilation."""
    stamp: Any = _same
    if store.dialect == "sqlite":
        # Dates as SQLAlchemy stores them on SQLite, so reads through the table's types agree.
        to_text: Any = t.record.c.received_at.type._cached_bind_processor(connection.dialect)  # type: ignore[attr-defined]
        # Keyed by identity: the rows of a chunk share their few datetime objects (see
        # prepare_row), and hashing an aware datetime costs more than converting it. The
        # rows keep those objects alive for the whole call, so an id is not reused.
        memo: dict[int, str] = {}

        def sqlite_stamp(moment: datetime) -> str:
            text = memo.get(id(moment))
            if text is None:
                text = memo[id(moment)] = to_text(moment)
            return text

        stamp = sqlite_stamp

    values = [
        (
            r["source_id"],
            r["source_record_id"],
            r["agency_id"],
            r["batch_id"],
            r["record_class"],
            r["tlp"],
            r["handling"],
            r["reliability"],
            r["validity"],
            stamp(r["received_at"]),
            r["occurred_at"],
            stamp(r["review_due"]),
            r["status"],
            r["version"],
            r["content_hash"],
            r["payload_text"],
            r["seq"],
            stamp(r["updated_at"]),
        )
        for r in rows
    ]
    if store.dialect == "postgresql":
        raw: Any = connection.connection.dbapi_connection
        columns = ", ".join(INSERT_COLUMNS)
        with raw.cursor() as cursor, cursor.copy(f"COPY record ({columns}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" for _ in INSERT_COLUMNS)
    connection.exec_driver_sql(f"INSERT INTO record ({', '.join(INSERT_COLUMNS)}) VALUES ({marks})", values)


def _same(value: Any) -> Any:
    return value


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _archive_versions(connection: Connection, ids: list[int], now: datetime) -> None:
    r = t.record.c
    for start in range(0, len(ids), LOOKUP_SLICE):
        part = ids[start : start + LOOKUP_SLICE]
        rows = connection.execute(
            select(
                r.id,
                r.version,
                r.batch_id,
                r.received_at,
                r.reliability,
                r.validity,
                r.tlp,
                r.handling,
                r.status,
                r.content_hash,
                r.payload,
            ).where(r.id.in_(part))
        ).all()
        connection.execute(
            insert(t.record_version),
            [
                {
                    "record_id": row.id,
                    "version": row.version,
                    "batch_id": row.batch_id,
                    "received_at": row.received_at,
                    "superseded_at": now,
                    "reliability": row.reliability,
                    "validity": row.validity,
                    "tlp": row.tlp,
                    "handling": row.handling,
                    "status": row.status,
                    "content_hash": row.content_hash,
                    "payload": row.payload,
                }
                for row in rows
            ],
        )
